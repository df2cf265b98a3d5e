import { STATUS_CODES } from 'node:http';
import {
  ArchivedError,
  BadRequestError,
  ForbiddenKeyError,
  InsufficientScopeError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from './errors.ts';

/** An RFC 9457 problem details object. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
}

export interface ProblemResponse {
  readonly problem: Problem;
  readonly headers: Readonly<Record<string, string>>;
}

const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://signet.dev/problems/';

/** The headers every problem answer carries, from the Lambdas, the gateway and the local stand-ins. */
export const PROBLEM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': PROBLEM_CONTENT_TYPE,
  'Cache-Control': 'private, no-store',
  // Read as JSON, never sniffed as something a browser would run: the detail may quote input.
  'X-Content-Type-Options': 'nosniff',
});

/** RFC 9110's names where Node's table keeps older ones. */
const RFC_9110_TITLES: Readonly<Record<number, string>> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

/** Builds a problem body: `slug` becomes the stable `type` URI, the title is the status's name. */
export function problem(status: number, slug: string, detail: string): Problem {
  const title = RFC_9110_TITLES[status] ?? STATUS_CODES[status] ?? 'Error';
  return { type: `${TYPE_BASE}${slug}`, title, status, detail };
}

/**
 * The one place where errors become HTTP answers. A MisconfiguredError, and anything that
 * is not a SignetError (a bug), is answered as 500 with a generic detail, never its message.
 */
export function toProblemResponse(error: unknown): ProblemResponse {
  if (error instanceof BadRequestError) {
    return { problem: problem(400, 'bad-request', error.message), headers: {} };
  }
  if (error instanceof UnauthorizedError) {
    return {
      problem: problem(401, 'unauthorized', error.message),
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  if (error instanceof InsufficientScopeError) {
    return {
      problem: problem(403, 'insufficient-scope', error.message),
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${error.scope}"` },
    };
  }
  if (error instanceof ForbiddenKeyError) {
    return { problem: problem(403, 'forbidden', error.message), headers: {} };
  }
  if (error instanceof NotFoundError) {
    return { problem: problem(404, 'not-found', error.message), headers: {} };
  }
  if (error instanceof ArchivedError) {
    return { problem: problem(409, 'archived', error.message), headers: {} };
  }
  if (error instanceof UnavailableError) {
    return {
      problem: problem(503, 'unavailable', error.message),
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
    };
  }
  // A deployment fault (MisconfiguredError) and a bug alike: nothing the caller can mend
  // or wait out, and nothing of the cause in the body.
  return {
    problem: problem(500, 'internal', 'an unexpected error occurred'),
    headers: {},
  };
}
