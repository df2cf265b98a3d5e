/**
 * The API Gateway's own answers (Gateway Responses), reshaped to RFC 9457 problem+json.
 * One table serves both the deployed REST API (the CDK stack turns each entry into a
 * GatewayResponse) and the local stand-in, so both answer alike.
 */
import { PROBLEM_HEADERS, type Problem, problem } from '../api/core/problem.ts';

/** Every API Gateway REST API response type (the CDK's `ResponseType`). */
export type GatewayResponseType =
  | 'ACCESS_DENIED'
  | 'API_CONFIGURATION_ERROR'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'AUTHORIZER_FAILURE'
  | 'BAD_REQUEST_PARAMETERS'
  | 'BAD_REQUEST_BODY'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX'
  | 'EXPIRED_TOKEN'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'INVALID_API_KEY'
  | 'INVALID_SIGNATURE'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'UNAUTHORIZED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'WAF_FILTERED';

export interface GatewayResponse {
  readonly type: GatewayResponseType;
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Problem;
}

function entry(
  type: GatewayResponseType,
  statusCode: number,
  slug: string,
  detail: string,
  headers: Record<string, string> = {},
): GatewayResponse {
  return {
    type,
    statusCode,
    headers: { ...PROBLEM_HEADERS, ...headers },
    body: problem(statusCode, slug, detail),
  };
}

const RETRY_SOON = { 'Retry-After': '5' };

/**
 * Every response type has its own entry with an explicit status, so the DEFAULT_* entries
 * only catch types AWS may add later. Statuses follow SPEC.md: throttling is 503 with
 * Retry-After, an unknown route 404.
 */
export const GATEWAY_RESPONSES: readonly GatewayResponse[] = [
  entry('UNAUTHORIZED', 401, 'unauthorized', 'a valid bearer token is required', {
    'WWW-Authenticate': 'Bearer',
  }),
  entry('EXPIRED_TOKEN', 401, 'unauthorized', 'the token has expired', {
    'WWW-Authenticate': 'Bearer error="invalid_token"',
  }),
  entry('ACCESS_DENIED', 403, 'forbidden', 'the token does not allow this request'),
  entry('INVALID_API_KEY', 403, 'forbidden', 'the API key is not valid'),
  entry('INVALID_SIGNATURE', 403, 'forbidden', 'the request signature is not valid'),
  entry('WAF_FILTERED', 403, 'forbidden', 'the request was blocked'),
  // The REST API answers 403 MISSING_AUTHENTICATION_TOKEN for an unknown path or method.
  entry('MISSING_AUTHENTICATION_TOKEN', 404, 'not-found', 'no such route'),
  entry('RESOURCE_NOT_FOUND', 404, 'not-found', 'no such route'),
  entry('BAD_REQUEST_PARAMETERS', 400, 'bad-request', 'a request parameter is missing or invalid'),
  entry('BAD_REQUEST_BODY', 400, 'bad-request', 'the request body is invalid'),
  entry('REQUEST_TOO_LARGE', 413, 'too-large', 'the request is too large'),
  entry('UNSUPPORTED_MEDIA_TYPE', 415, 'unsupported-media-type', 'unsupported body'),
  // The authorizer throws anything but "Unauthorized" when it cannot verify (JWKS down) or on a bug.
  entry('AUTHORIZER_FAILURE', 503, 'unavailable', 'token verification is unavailable', RETRY_SOON),
  entry(
    'AUTHORIZER_CONFIGURATION_ERROR',
    503,
    'unavailable',
    'token verification is unavailable',
    RETRY_SOON,
  ),
  entry('THROTTLED', 503, 'unavailable', 'too many requests, retry later', {
    'Retry-After': '1',
  }),
  entry('QUOTA_EXCEEDED', 503, 'unavailable', 'request quota exceeded, retry later', {
    'Retry-After': '60',
  }),
  // A misconfigured API is not a passing outage: a plain 500, no Retry-After.
  entry('API_CONFIGURATION_ERROR', 500, 'internal', 'the service is misconfigured'),
  entry('INTEGRATION_FAILURE', 502, 'bad-gateway', 'the service failed to answer'),
  entry('INTEGRATION_TIMEOUT', 504, 'timeout', 'the request took too long'),
  // Also a path too long for the method ARN (API Gateway's own 414) and a malformed query.
  entry(
    'DEFAULT_4XX',
    400,
    'bad-request',
    'the gateway refused the request: a malformed query, or a path too long',
  ),
  entry('DEFAULT_5XX', 502, 'bad-gateway', 'the service failed to answer'),
];

export function gatewayResponse(type: GatewayResponseType): GatewayResponse {
  const found = GATEWAY_RESPONSES.find((r) => r.type === type);
  if (!found) throw new Error(`no gateway response for ${type}`);
  return found;
}
