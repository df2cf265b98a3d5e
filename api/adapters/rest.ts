import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import Negotiator from 'negotiator';
import { BadRequestError } from '../core/errors.ts';
import { headerValues } from '../core/headers.ts';
import { PROBLEM_HEADERS, toProblemResponse } from '../core/problem.ts';

/** Headers every Signet answer carries. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'private, no-store',
  'X-Content-Type-Options': 'nosniff',
});

/** A case-insensitive header lookup over a REST API (payload 1.0) event: the first value. */
function getHeader(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  return headerValues(event.headers, name.toLowerCase())[0];
}

/** One query parameter; given twice it is ambiguous, so a 400. */
export function getQuery(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
  name: string,
): string | undefined {
  const many = event.multiValueQueryStringParameters?.[name];
  if (many && many.length > 1) throw new BadRequestError(`the parameter "${name}" is given more than once`);
  return event.queryStringParameters?.[name] ?? undefined;
}

/**
 * Path parameter `name`, decoded. A REST API hands path parameters on as the request wrote
 * them, percent-encoded (`a%20b.txt`), unlike query parameters, which it decodes.
 */
export function getPathParameter(event: Pick<APIGatewayProxyEvent, 'pathParameters'>, name: string): string {
  const raw = event.pathParameters?.[name] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError('the path is not valid percent-encoded UTF-8');
  }
}

/** The media ranges that ask for the link as JSON. */
const JSON_RANGES = new Set(['application/json', 'application/*']);

/**
 * True when the client prefers the link as JSON to the redirect: its most preferred media
 * range by `Accept` (highest q, the first listed among equals; negotiator) is
 * `application/json` or `application/*`. The redirect leads to a file of any type, so any
 * other first choice (`*\/*`, a browser's `text/html,...`, `text/plain, application/json;q=0.1`)
 * gets it.
 */
export function wantsJson(event: Pick<APIGatewayProxyEvent, 'headers'>): boolean {
  const accept = getHeader(event, 'accept');
  if (accept === undefined) return false;
  // Media-type parameters other than q (`application/json; charset=utf-8`) do not change
  // what is asked for here, but negotiator would keep them in the type: drop them.
  const ranges = accept
    .split(',')
    .map((range) => {
      const [type = '', ...params] = range.split(';');
      const q = params.map((p) => p.trim()).find((p) => /^q=/i.test(p));
      return q ? `${type.trim()};${q}` : type.trim();
    })
    .join(', ');
  const [first] = new Negotiator({ headers: { accept: ranges } }).mediaTypes();
  return first !== undefined && JSON_RANGES.has(first.toLowerCase());
}

/** An RFC 9457 problem+json answer for any error. */
export function problemResult(error: unknown): APIGatewayProxyResult {
  const { problem, headers } = toProblemResponse(error);
  return {
    statusCode: problem.status,
    headers: { ...BASE_HEADERS, ...PROBLEM_HEADERS, ...headers },
    body: JSON.stringify(problem),
  };
}

export function jsonResult(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  } satisfies APIGatewayProxyResult;
}
