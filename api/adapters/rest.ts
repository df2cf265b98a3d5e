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

/**
 * True when the client prefers the link as JSON to the redirect: its most preferred media
 * range by `Accept` (highest q, the first listed among equals; negotiator, which also reads
 * quoted parameters) is `application/json`, or `application/*` while `application/json`
 * itself is not refused (`;q=0`). The redirect leads to a file of any type, so any other
 * first choice (`*\/*`, a browser's `text/html,...`, `text/plain, application/json;q=0.1`)
 * gets it.
 */
export function wantsJson(event: Pick<APIGatewayProxyEvent, 'headers'>): boolean {
  const accept = getHeader(event, 'accept');
  if (accept === undefined) return false;
  const negotiator = new Negotiator({ headers: { accept } });
  const first = negotiator.mediaTypes()[0]?.toLowerCase();
  if (first === 'application/json') return true;
  return first === 'application/*' && negotiator.mediaTypes(['application/json']).length > 0;
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
