// The download Lambda's own wiring (`buildDownloadService`): a real S3Client, unmocked, against
// a stand-in S3 on 127.0.0.1, so the README's fixed values (2 attempts, 3 s per request) and
// the route's 503 + Retry-After are pinned where the SDK really meets the network.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildDownloadService, createDownloadHandler } from '../../api/adapters/download.ts';
import { loadConfig } from '../../api/core/config.ts';

const KEY = 'public/a.pdf';

let server: Server | undefined;
let requests: IncomingMessage[] = [];

/** A stand-in S3 answering every request with `answer`; its endpoint. */
async function s3Answering(answer: (res: ServerResponse) => void): Promise<string> {
  requests = [];
  server = createServer((req, res) => {
    requests.push(req);
    answer(res);
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
});

async function handlerFor(endpoint: string) {
  const config = loadConfig({
    SIGNET_BUCKET: 'signet-test',
    SIGNET_REGION: 'us-east-1',
    SIGNET_S3_ENDPOINT: endpoint,
    SIGNET_ISSUER: 'https://issuer.test',
    SIGNET_AUDIENCE: 'signet',
    SIGNET_JWKS_URL: 'https://issuer.test/jwks.json',
  });
  return createDownloadHandler({
    service: await buildDownloadService(config),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
}

function event(): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: `/d/${KEY}`,
    resource: '/d/{proxy+}',
    body: null,
    isBase64Encoded: false,
    headers: {},
    multiValueHeaders: {},
    pathParameters: { proxy: KEY },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      authorizer: { sub: 'alice', scope: 'downloads:read' },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

describe('the download Lambda against a real S3 endpoint', () => {
  it('HEADs the object, then answers 302 to the configured endpoint', async () => {
    // Prepare
    const endpoint = await s3Answering((res) => {
      res.writeHead(200, { 'Content-Length': '3', 'x-amz-meta-filename': 'report.pdf' });
      res.end();
    });

    // Act
    const result = await (await handlerFor(endpoint))(event());

    // Assess
    expect(result.statusCode).toBe(302);
    const location = new URL(String(result.headers?.Location));
    expect(location.origin).toBe(endpoint);
    expect(location.pathname).toBe(`/signet-test/${KEY}`);
    expect(location.searchParams.get('response-content-disposition')).toContain('report.pdf');
    expect(requests.map((r) => [r.method, r.url])).toEqual([['HEAD', `/signet-test/${KEY}`]]);
  });

  it.each([
    ['AWS_USE_FIPS_ENDPOINT', 'true'],
    ['AWS_USE_DUALSTACK_ENDPOINT', 'true'],
  ])(
    'with a custom endpoint, %s=%s in the environment does not apply (the endpoint rules would refuse it)',
    async (name, value) => {
      // Prepare
      vi.stubEnv(name, value);
      const endpoint = await s3Answering((res) => {
        res.writeHead(200, { 'Content-Length': '3' });
        res.end();
      });

      try {
        // Act
        const result = await (await handlerFor(endpoint))(event());

        // Assess
        expect(result.statusCode).toBe(302);
        expect(new URL(String(result.headers?.Location)).origin).toBe(endpoint);
      } finally {
        vi.unstubAllEnvs();
      }
    },
  );

  it('S3 throttling: 2 attempts in all, then 503 with Retry-After: 2', async () => {
    // Prepare
    const endpoint = await s3Answering((res) => {
      res.writeHead(503);
      res.end();
    });

    // Act
    const result = await (await handlerFor(endpoint))(event());

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(result.headers?.['Retry-After']).toBe('2');
    expect(requests).toHaveLength(2);
  });

  it('S3 silent past the 3 s request timeout, twice: 503 with Retry-After: 1', async () => {
    // Prepare: a server that takes the request and never answers.
    const endpoint = await s3Answering(() => undefined);
    const started = Date.now();

    // Act
    const result = await (await handlerFor(endpoint))(event());

    // Assess
    const elapsed = Date.now() - started;
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('1');
    expect(requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(2 * 3000 - 100);
    // Well short of a Lambda timeout; wide enough for a loaded machine.
    expect(elapsed).toBeLessThan(2 * 3000 + 8000);
  }, 20_000);

  it('S3 unreachable (connection refused): 503 with Retry-After: 1', async () => {
    // Prepare: a port that was just closed.
    const endpoint = await s3Answering(() => undefined);
    await new Promise<void>((done) => server?.close(() => done()));
    server = undefined;

    // Act
    const result = await (await handlerFor(endpoint))(event());

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('1');
  });

  it('no such object: 404, one attempt', async () => {
    // Prepare
    const endpoint = await s3Answering((res) => {
      res.writeHead(404);
      res.end();
    });

    // Act
    const result = await (await handlerFor(endpoint))(event());

    // Assess
    expect(result.statusCode).toBe(404);
    expect(requests).toHaveLength(1);
  });
});
