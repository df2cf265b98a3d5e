import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import { createRemoteJWKSet, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createAuthorizer } from '../../api/adapters/authorizer.ts';
import { loadConfig } from '../../api/core/config.ts';
import {
  type AuthorizerHandler,
  type HttpRequest,
  LocalRestApi,
  MAX_METHOD_ARN_BYTES,
  type ProxyHandler,
  policyAllows,
} from '../../infra/local/api-gateway.ts';

const ARN = 'arn:aws:execute-api:us-east-1:000000000000:0000000000/local';

function allow(
  resource = `${ARN}/*`,
  context: Record<string, string> = { sub: 'alice', scope: 'downloads:read' },
) {
  return {
    principalId: 'alice',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }],
    },
    context,
  } satisfies APIGatewayAuthorizerResult;
}

function request(rawUrl: string, method = 'GET', headers: HttpRequest['headers'] = {}): HttpRequest {
  return { method, rawUrl, headers, body: '', sourceIp: '127.0.0.1' };
}

const ok: ProxyHandler = async () => ({ statusCode: 200, body: 'ok' });

function api(authorizer: AuthorizerHandler, handler: ProxyHandler = ok) {
  return new LocalRestApi({
    region: 'us-east-1',
    authorizer,
    routes: [{ methods: ['GET', 'HEAD'], resource: '/d/{proxy+}', authorize: true, handler }],
  });
}

/** An API that allows every token and keeps every event its route receives. */
function recordingApi() {
  const seen: APIGatewayProxyEvent[] = [];
  const rest = api(
    async () => allow(),
    async (event) => {
      seen.push(event);
      return { statusCode: 200, body: 'ok' };
    },
  );
  return { rest, seen };
}

function problemOf(body: string | Buffer) {
  return JSON.parse(String(body)) as { type: string; title: string; status: number; detail: string };
}

describe('LocalRestApi: the gateway answers', () => {
  it.each([
    ['an unknown path', request('/nope')],
    ['a method the resource lacks', request('/d/a.txt', 'POST')],
    ['an empty greedy path', request('/d/')],
  ])('%s → 404 problem+json (MISSING_AUTHENTICATION_TOKEN reshaped)', async (_name, req) => {
    // Prepare
    const authorizer = vi.fn<AuthorizerHandler>(async () => allow());

    // Act
    const res = await api(authorizer).handle(req);

    // Assess
    expect(res.statusCode).toBe(404);
    expect(res.headers['Content-Type']).toBe('application/problem+json');
    expect(problemOf(res.body)).toMatchObject({ status: 404, title: 'Not Found' });
    expect(authorizer).not.toHaveBeenCalled();
  });

  it('401 with WWW-Authenticate: Bearer when the authorizer throws Unauthorized', async () => {
    // Act
    const res = await api(async () => {
      throw new Error('Unauthorized');
    }).handle(request('/d/a.txt'));

    // Assess
    expect(res.statusCode).toBe(401);
    expect(res.headers['WWW-Authenticate']).toBe('Bearer');
    expect(problemOf(res.body)).toMatchObject({ status: 401 });
  });

  it.each([
    ['a JWKS outage', new Error('AuthorizerUnavailable')],
    ['a bug', new TypeError('a bug')],
    ['"unauthorized" in another case', new Error('unauthorized')],
  ])('503 with Retry-After when the authorizer fails any other way: %s', async (_, failure) => {
    // Act: only exactly "Unauthorized" is a 401 on API Gateway.
    const res = await api(async () => {
      throw failure;
    }).handle(request('/d/a.txt'));

    // Assess
    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toMatch(/^\d+$/);
    expect(problemOf(res.body)).toMatchObject({ status: 503 });
  });

  it('503 when the authorizer returns no policy', async () => {
    // Act
    const res = await api(async () => ({}) as APIGatewayAuthorizerResult).handle(request('/d/a.txt'));

    // Assess
    expect(res.statusCode).toBe(503);
  });

  it.each([
    ['an Allow for another stage', allow('arn:aws:execute-api:us-east-1:000000000000:local/prod/*')],
    ['an Allow for another method', allow(`${ARN}/POST/*`)],
    [
      'an explicit Deny beside a wildcard Allow',
      {
        ...allow(),
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${ARN}/*` },
            { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: `${ARN}/GET/d/*` },
          ],
        },
      } satisfies APIGatewayAuthorizerResult,
    ],
  ])('403 problem+json for %s (ACCESS_DENIED)', async (_name, policy: APIGatewayAuthorizerResult) => {
    // Prepare
    const handler = vi.fn(ok);

    // Act
    const res = await api(async () => policy, handler).handle(request('/d/a.txt'));

    // Assess
    expect(res.statusCode).toBe(403);
    expect(problemOf(res.body)).toMatchObject({ status: 403 });
    expect(handler).not.toHaveBeenCalled();
  });

  it('502 problem+json when the handler throws or answers something malformed', async () => {
    // Act
    const thrown = await api(
      async () => allow(),
      async () => {
        throw new Error('boom: secret detail');
      },
    ).handle(request('/d/a.txt'));
    const malformed = await api(
      async () => allow(),
      async () => ({ body: 'no status' }) as never,
    ).handle(request('/d/a.txt'));

    // Assess
    for (const res of [thrown, malformed]) {
      expect(res.statusCode).toBe(502);
      expect(String(res.body)).not.toContain('secret detail');
    }
  });

  it('400 for a query with broken percent-encoding', async () => {
    // Act
    const res = await api(async () => allow()).handle(request('/d/a.txt?filename=%E0%A4%A'));

    // Assess
    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body)).toMatchObject({ status: 400 });
  });

  it('passes a path with broken percent-encoding on as it is: the route answers it', async () => {
    // Prepare
    const { rest, seen } = recordingApi();

    // Act
    const res = await rest.handle(request('/d/a%E0%A4%A.txt'));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(seen[0]?.pathParameters).toEqual({ proxy: 'a%E0%A4%A.txt' });
  });

  it.each([
    ['at the limit', MAX_METHOD_ARN_BYTES, 200],
    ['a byte over it', MAX_METHOD_ARN_BYTES + 1, 400],
  ])(
    'a method ARN %s (1,600 bytes) answers %i, the authorizer not called past it',
    async (_, bytes, status) => {
      // Prepare: API Gateway refuses a longer ARN of an authorized method (a 414, answered by
      // the DEFAULT_4XX Gateway Response).
      const authorizer = vi.fn<AuthorizerHandler>(async () => allow());
      const key = 'k'.repeat(bytes - `${ARN}/GET/d/`.length);

      // Act
      const res = await api(authorizer).handle(request(`/d/${key}`));

      // Assess
      expect(res.statusCode).toBe(status);
      expect(authorizer).toHaveBeenCalledTimes(status === 200 ? 1 : 0);
    },
  );

  it.each([
    ['an object', { nested: { x: 1 } }],
    ['an array', { list: ['x'] }],
    ['null', { gone: null }],
    ['a number that is not finite', { n: Number.NaN }],
  ])('an authorizer context holding %s is a configuration error (503)', async (_, context) => {
    // Act
    const res = await api(async () => ({ ...allow(), context }) as APIGatewayAuthorizerResult).handle(
      request('/d/a.txt'),
    );

    // Assess
    expect(res.statusCode).toBe(503);
    expect(problemOf(res.body)).toMatchObject({ status: 503 });
  });

  it('allows by a policy whose Statement is one object, as IAM allows', async () => {
    // Prepare
    const single = allow();
    const policy = {
      ...single,
      policyDocument: { ...single.policyDocument, Statement: single.policyDocument.Statement[0] },
    };

    // Act
    const res = await api(async () => policy as unknown as APIGatewayAuthorizerResult).handle(
      request('/d/a.txt'),
    );

    // Assess
    expect(res.statusCode).toBe(200);
  });

  it('frames the answer itself: a handler’s Content-Length or hop-by-hop header, in any case, is dropped', async () => {
    // Prepare
    const rest = api(
      async () => allow(),
      async () => ({
        statusCode: 200,
        headers: { 'content-length': '100', Connection: 'close', 'X-Kept': 'yes' },
        multiValueHeaders: { 'Transfer-Encoding': ['chunked'] },
        body: 'abc',
      }),
    );

    // Act
    const res = await rest.handle(request('/d/a.txt'));

    // Assess
    expect(res.headers).toEqual({ 'X-Kept': 'yes' });
  });
});

describe('LocalRestApi: the Lambda proxy event', () => {
  it('carries path parameters as written, decoded query parameters, the method and the authorizer context', async () => {
    // Prepare
    const seen: APIGatewayProxyEvent[] = [];
    const authorizer = vi.fn<AuthorizerHandler>(async () => allow());
    const rest = api(authorizer, async (event) => {
      seen.push(event);
      return { statusCode: 302, headers: { Location: 'https://x.test/y' }, body: '' };
    });

    // Act
    const res = await rest.handle(
      request('/d/public/Annual%20Report%20%C3%9C.pdf?via=s3&filename=a%2Bb&filename=c+d', 'HEAD', {
        Authorization: 'Bearer t',
      }),
    );

    // Assess
    expect(res.statusCode).toBe(302);
    expect(res.headers.Location).toBe('https://x.test/y');
    const event = seen[0];
    expect(event?.httpMethod).toBe('HEAD');
    expect(event?.resource).toBe('/d/{proxy+}');
    // A REST API passes the path on percent-encoded, and decodes the query (`+` a space).
    expect(event?.pathParameters).toEqual({ proxy: 'public/Annual%20Report%20%C3%9C.pdf' });
    expect(event?.path).toBe('/d/public/Annual%20Report%20%C3%9C.pdf');
    expect(event?.queryStringParameters).toEqual({ via: 's3', filename: 'c d' });
    expect(event?.multiValueQueryStringParameters).toEqual({ via: ['s3'], filename: ['a+b', 'c d'] });
    expect(event?.requestContext.authorizer).toEqual({
      sub: 'alice',
      scope: 'downloads:read',
      principalId: 'alice',
    });
    const authEvent = authorizer.mock.calls[0]?.[0];
    expect(authEvent?.methodArn).toBe(`${ARN}/HEAD/d/public/Annual%20Report%20%C3%9C.pdf`);
    expect(authEvent?.headers).toMatchObject({ Authorization: 'Bearer t' });
  });
});

describe('LocalRestApi: one trailing slash, as a REST API routes it', () => {
  const seen: APIGatewayProxyEvent[] = [];
  const rest = new LocalRestApi({
    region: 'us-east-1',
    authorizer: async () => allow(),
    routes: [
      {
        methods: ['GET'],
        resource: '/d',
        authorize: true,
        handler: async (event) => {
          seen.push(event);
          return { statusCode: 200, body: 'ok' };
        },
      },
    ],
  });

  it.each(['/d', '/d/'])('routes %s to the resource /d, with no path parameters', async (path) => {
    // Prepare
    seen.length = 0;

    // Act
    const res = await rest.handle(request(path));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(seen[0]?.resource).toBe('/d');
    expect(seen[0]?.pathParameters).toBeNull();
  });

  it.each(['/d//', '/dx', '/d/a'])('answers %s 404: only one trailing slash is ignored', async (path) => {
    // Act
    const res = await rest.handle(request(path));

    // Assess
    expect(res.statusCode).toBe(404);
  });
});

describe('LocalRestApi: query parameter names', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])(
    'passes a parameter named %s on like any other',
    async (name) => {
      // Prepare
      const { rest, seen } = recordingApi();

      // Act
      const res = await rest.handle(request(`/d/a.txt?${name}=1&${name}=2&via=s3`));

      // Assess
      expect(res.statusCode).toBe(200);
      const event = seen[0];
      expect(Object.entries(event?.queryStringParameters ?? {})).toEqual([
        [name, '2'],
        ['via', 's3'],
      ]);
      expect(Object.entries(event?.multiValueQueryStringParameters ?? {})).toEqual([
        [name, ['1', '2']],
        ['via', ['s3']],
      ]);
    },
  );
});

describe('policyAllows', () => {
  it.each([
    [`${ARN}/*`, true],
    [`${ARN}/GET/*`, true],
    [`${ARN}/GET/d/?.txt`, true],
    [`${ARN}/GET/d/a.txt`, true],
    [`${ARN}/HEAD/*`, false],
    ['arn:aws:execute-api:us-east-1:000000000000:other/local/*', false],
  ])('Allow on %s → %s for GET /d/a.txt', (resource, expected) => {
    expect(policyAllows(allow(resource), `${ARN}/GET/d/a.txt`)).toBe(expected);
  });

  it.each([
    ['execute-api:Invoke', true],
    ['execute-api:invoke', true],
    ['EXECUTE-API:INVOKE', true],
    ['execute-api:*', true],
    ['execute-api:Inv*', true],
    ['*', true],
    ['execute-api:InvalidateCache', false],
    ['execute-api:Invoke2', false],
    ['s3:GetObject', false],
  ])('Allow of the action %s → %s (IAM: names ignore case, wildcards match)', (action, expected) => {
    // Prepare
    const policy = allow();
    const statement = { Effect: 'Allow' as const, Resource: `${ARN}/*`, Action: action };

    // Act
    const allowed = policyAllows(
      { ...policy, policyDocument: { ...policy.policyDocument, Statement: [statement] } },
      `${ARN}/GET/d/a.txt`,
    );

    // Assess
    expect(allowed).toBe(expected);
  });
});

describe('the real authorizer behind the local gateway', () => {
  it('answers 503, never the route, when the JWKS cannot be reached', async () => {
    // Prepare: a port that was just closed.
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((done) => closed.close(() => done()));
    const config = loadConfig({
      SIGNET_BUCKET: 'signet-test',
      SIGNET_REGION: 'us-east-1',
      SIGNET_ISSUER: 'https://issuer.test',
      SIGNET_AUDIENCE: 'signet',
      SIGNET_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
    });
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ scope: 'downloads:read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(config.issuer)
      .setAudience(config.audience)
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(privateKey);
    const authorizer = createAuthorizer({
      config,
      keys: createRemoteJWKSet(config.jwksUrl, { timeoutDuration: 500 }),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const handler = vi.fn(ok);

    // Act
    const res = await api(authorizer, handler).handle(
      request('/d/public/a.txt', 'GET', { authorization: `Bearer ${token}` }),
    );

    // Assess
    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toBe('5');
    expect(handler).not.toHaveBeenCalled();
  });
});
