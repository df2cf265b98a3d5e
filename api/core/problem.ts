import {
  ArchivedError,
  BadRequestError,
  ForbiddenKeyError,
  InsufficientScopeError,
  NotFoundError,
  type SignetError,
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

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://signet.dev/problems/';

/** Builds a problem body; `slug` becomes the stable `type` URI. */
export function problem(status: number, slug: string, title: string, detail: string): Problem {
  return { type: `${TYPE_BASE}${slug}`, title, status, detail };
}

/**
 * The one place where errors become HTTP answers. A MisconfiguredError, and anything that
 * is not a SignetError (a bug), is answered as 500 with a generic detail, never its message.
 */
export function toProblemResponse(error: unknown): ProblemResponse {
  if (error instanceof BadRequestError) {
    return { problem: problem(400, 'bad-request', 'Bad Request', error.message), headers: {} };
  }
  if (error instanceof UnauthorizedError) {
    return {
      problem: problem(401, 'unauthorized', 'Unauthorized', error.message),
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  if (error instanceof InsufficientScopeError) {
    return {
      problem: problem(403, 'insufficient-scope', 'Forbidden', error.message),
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${error.scope}"` },
    };
  }
  if (error instanceof ForbiddenKeyError) {
    return { problem: problem(403, 'forbidden', 'Forbidden', error.message), headers: {} };
  }
  if (error instanceof NotFoundError) {
    return { problem: problem(404, 'not-found', 'Not Found', error.message), headers: {} };
  }
  if (error instanceof ArchivedError) {
    return { problem: problem(409, 'archived', 'Conflict', error.message), headers: {} };
  }
  if (error instanceof UnavailableError) {
    return {
      problem: problem(503, 'unavailable', 'Service Unavailable', error.message),
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
    };
  }
  // A deployment fault (MisconfiguredError) and a bug alike: nothing the caller can mend
  // or wait out, and nothing of the cause in the body.
  return {
    problem: problem(500, 'internal', 'Internal Server Error', 'an unexpected error occurred'),
    headers: {},
  };
}

export function isSignetError(error: unknown): error is SignetError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && 'code' in error;
}
