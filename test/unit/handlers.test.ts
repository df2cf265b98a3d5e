// The Lambda entry points themselves, as Lambda loads them: settings from process.env, read
// once when the module loads, then one event each.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer } from '../../infra/local/http.ts';

const servers: Server[] = [];

/** A server on 127.0.0.1, port 0; its origin. */
async function serve(listener: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let token: string;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  const issuer = await serve((_, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  const s3 = await serve((_, res) => {
    res.writeHead(200, { 'Content-Length': '3', 'Content-Type': 'application/pdf' });
    res.end();
  });
  for (const [name, value] of Object.entries({
    SIGNET_BUCKET: 'signet-test',
    SIGNET_REGION: 'us-east-1',
    SIGNET_S3_ENDPOINT: s3,
    SIGNET_ISSUER: 'https://issuer.test',
    SIGNET_AUDIENCE: 'signet',
    SIGNET_JWKS_URL: `${issuer}/jwks.json`,
  })) {
    vi.stubEnv(name, value);
  }
  token = await new SignJWT({ scope: 'downloads:read' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer('https://issuer.test')
    .setAudience('signet')
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(privateKey);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.map(closeServer));
});

describe('api/handlers', () => {
  it('authorizer.ts allows a valid token with the settings of process.env', async () => {
    // Prepare
    const { handler } = await import('../../api/handlers/authorizer.ts');
    const event = {
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/d/public/a.pdf',
      headers: { Authorization: `Bearer ${token}` },
    } as unknown as APIGatewayRequestAuthorizerEvent;

    // Act
    const result = await handler(event);

    // Assess
    expect(result.principalId).toBe('alice');
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toEqual({ sub: 'alice', scope: 'downloads:read' });
  });

  it('download.ts answers 302 to the bucket of process.env', async () => {
    // Prepare
    const { handler } = await import('../../api/handlers/download.ts');
    const event = {
      httpMethod: 'GET',
      headers: {},
      pathParameters: { proxy: 'public/a.pdf' },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      requestContext: { authorizer: { sub: 'alice', scope: 'downloads:read' } },
    } as unknown as APIGatewayProxyEvent;

    // Act
    const result = await handler(event);

    // Assess
    expect(result.statusCode).toBe(302);
    const location = new URL(String(result.headers?.Location));
    expect(location.origin).toBe(process.env.SIGNET_S3_ENDPOINT);
    expect(location.pathname).toBe('/signet-test/public/a.pdf');
  });
});
