import { describe, expect, it } from 'vitest';
import {
  GATEWAY_RESPONSES,
  type GatewayResponseType,
  gatewayResponse,
} from '../../infra/gateway-responses.ts';

const ALL_TYPES: GatewayResponseType[] = [
  'ACCESS_DENIED',
  'API_CONFIGURATION_ERROR',
  'AUTHORIZER_CONFIGURATION_ERROR',
  'AUTHORIZER_FAILURE',
  'BAD_REQUEST_PARAMETERS',
  'BAD_REQUEST_BODY',
  'DEFAULT_4XX',
  'DEFAULT_5XX',
  'EXPIRED_TOKEN',
  'INTEGRATION_FAILURE',
  'INTEGRATION_TIMEOUT',
  'INVALID_API_KEY',
  'INVALID_SIGNATURE',
  'MISSING_AUTHENTICATION_TOKEN',
  'QUOTA_EXCEEDED',
  'REQUEST_TOO_LARGE',
  'RESOURCE_NOT_FOUND',
  'THROTTLED',
  'UNAUTHORIZED',
  'UNSUPPORTED_MEDIA_TYPE',
  'WAF_FILTERED',
];

describe('the Gateway Responses table', () => {
  it('has exactly one entry per response type', () => {
    expect(GATEWAY_RESPONSES.map((r) => r.type).sort()).toEqual([...ALL_TYPES].sort());
  });

  it.each([
    ['UNAUTHORIZED', 401],
    ['MISSING_AUTHENTICATION_TOKEN', 404],
    ['AUTHORIZER_FAILURE', 503],
    ['THROTTLED', 503],
    ['QUOTA_EXCEEDED', 503],
    ['API_CONFIGURATION_ERROR', 500],
    ['REQUEST_TOO_LARGE', 413],
    ['INTEGRATION_TIMEOUT', 504],
  ] as const)('%s answers %i as SPEC.md says', (type, status) => {
    expect(gatewayResponse(type).statusCode).toBe(status);
  });

  it('every 503 says when to retry, every 401 says Bearer', () => {
    for (const response of GATEWAY_RESPONSES) {
      if (response.statusCode === 503) expect(response.headers['Retry-After']).toMatch(/^\d+$/);
      if (response.statusCode === 401) expect(response.headers['WWW-Authenticate']).toMatch(/^Bearer/);
    }
  });

  it.each(ALL_TYPES)('%s is a problem+json answer no cache keeps and no browser sniffs', (type) => {
    // Act
    const { headers, body, statusCode } = gatewayResponse(type);

    // Assess
    expect(headers).toMatchObject({
      'Content-Type': 'application/problem+json',
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    expect(body).toMatchObject({
      status: statusCode,
      type: expect.stringMatching(/^https:\/\/signet\.dev\/problems\//),
    });
  });
});
