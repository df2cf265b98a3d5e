/**
 * The API Gateway's own answers (Gateway Responses), reshaped to RFC 9457 problem+json.
 * One table serves both the deployed REST API (the CDK stack turns each entry into a
 * GatewayResponse) and the local stand-in, so both answer alike.
 */
export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'AUTHORIZER_FAILURE'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTEGRATION_TIMEOUT'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

export interface GatewayResponse {
  readonly type: GatewayResponseType;
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    readonly type: string;
    readonly title: string;
    readonly status: number;
    readonly detail: string;
  };
}

const PROBLEM = 'application/problem+json';

function entry(
  type: GatewayResponseType,
  statusCode: number,
  slug: string,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): GatewayResponse {
  return {
    type,
    statusCode,
    headers: { 'Content-Type': PROBLEM, 'Cache-Control': 'private, no-store', ...headers },
    body: { type: `https://signet.dev/problems/${slug}`, title, status: statusCode, detail },
  };
}

export const GATEWAY_RESPONSES: readonly GatewayResponse[] = [
  entry('UNAUTHORIZED', 401, 'unauthorized', 'Unauthorized', 'a valid bearer token is required', {
    'WWW-Authenticate': 'Bearer',
  }),
  entry('ACCESS_DENIED', 403, 'forbidden', 'Forbidden', 'the token does not allow this request'),
  // The REST API answers 403 MISSING_AUTHENTICATION_TOKEN for an unknown path or method.
  entry('MISSING_AUTHENTICATION_TOKEN', 404, 'not-found', 'Not Found', 'no such route'),
  // The authorizer throws anything but "Unauthorized" only when it cannot verify (JWKS down).
  entry(
    'AUTHORIZER_FAILURE',
    503,
    'unavailable',
    'Service Unavailable',
    'token verification is unavailable',
    {
      'Retry-After': '5',
    },
  ),
  entry(
    'AUTHORIZER_CONFIGURATION_ERROR',
    503,
    'unavailable',
    'Service Unavailable',
    'token verification is unavailable',
    { 'Retry-After': '5' },
  ),
  entry('THROTTLED', 429, 'throttled', 'Too Many Requests', 'too many requests, slow down', {
    'Retry-After': '1',
  }),
  entry('QUOTA_EXCEEDED', 429, 'throttled', 'Too Many Requests', 'request quota exceeded', {
    'Retry-After': '60',
  }),
  entry('REQUEST_TOO_LARGE', 413, 'too-large', 'Content Too Large', 'the request is too large'),
  entry(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    'unsupported-media-type',
    'Unsupported Media Type',
    'unsupported body',
  ),
  entry('INTEGRATION_TIMEOUT', 504, 'timeout', 'Gateway Timeout', 'the request took too long'),
  entry('DEFAULT_4XX', 400, 'bad-request', 'Bad Request', 'the request was rejected by the gateway'),
  entry('DEFAULT_5XX', 502, 'bad-gateway', 'Bad Gateway', 'the service failed to answer'),
];

export function gatewayResponse(type: GatewayResponseType): GatewayResponse {
  const found = GATEWAY_RESPONSES.find((r) => r.type === type);
  if (!found) throw new Error(`no gateway response for ${type}`);
  return found;
}
