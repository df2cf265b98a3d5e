import { generateKeyPairSync } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import {
  CompactSign,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { authorizerFromEnv, createAuthorizer, stageWildcard } from '../../api/adapters/authorizer.ts';
import { loadConfig } from '../../api/core/config.ts';
import {
  AUDIENCE,
  b64url,
  claims,
  ISSUER,
  type KeyPair,
  NOW,
  NOW_S,
  type SigningKey,
  sign as signWith,
} from './jwt-fixtures.ts';

const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/d/public/a.pdf';
const STAGE_WILDCARD = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*';

type Authorizer = ReturnType<typeof createAuthorizer>;

interface TestServer {
  readonly url: URL;
  readonly hits: () => number;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1, port 0. */
async function serve(listener: RequestListener): Promise<TestServer> {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    listener(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let rsa: KeyPair;
let stranger: KeyPair;
let jwks: { keys: JWK[] };
let rsaPublicPem: string;
let jwksServer: TestServer;
const logger = new Logger({ logLevel: 'SILENT' });

/** Signs with the issuer's RSA key unless told otherwise. */
function sign(
  payload: JWTPayload,
  { alg = 'RS256', kid = 'rsa-1', key }: { alg?: string; kid?: string; key?: SigningKey } = {},
): Promise<string> {
  return signWith(payload, key ?? rsa.privateKey, { alg, kid });
}

function event(headers: Record<string, string> | null): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/d/{proxy+}',
    path: '/d/public/a.pdf',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: headers && Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: { proxy: 'public/a.pdf' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

function authorizer(keys: JWTVerifyGetKey, env: Record<string, string> = {}): Authorizer {
  const config = loadConfig({
    SIGNET_BUCKET: 'signet-test',
    SIGNET_REGION: 'us-east-1',
    SIGNET_ISSUER: ISSUER,
    SIGNET_AUDIENCE: AUDIENCE,
    SIGNET_JWKS_URL: jwksServer.url.href,
    ...env,
  });
  return createAuthorizer({ config, keys, logger });
}

function remoteKeys(url: URL = jwksServer.url): JWTVerifyGetKey {
  return createRemoteJWKSet(url, { timeoutDuration: 500, cooldownDuration: 30_000 });
}

/** Runs the authorizer and reports what came out, a policy or an error. */
async function run(
  auth: Authorizer,
  input: APIGatewayRequestAuthorizerEvent,
): Promise<{ result?: APIGatewayAuthorizerResult; error?: unknown }> {
  try {
    return { result: await auth(input) };
  } catch (error) {
    return { error };
  }
}

/**
 * Runs the authorizer like `run`, and also returns the reasons it logged for refusing (the jose
 * error code) and their details (jose's message): which check refused the token, not merely
 * that one did.
 */
async function runLogged(
  auth: Authorizer,
  input: APIGatewayRequestAuthorizerEvent,
): Promise<{ result?: APIGatewayAuthorizerResult; error?: unknown; reasons: unknown[]; details: unknown[] }> {
  const info = vi.spyOn(logger, 'info');
  try {
    const outcome = await run(auth, input);
    const logged = info.mock.calls
      .filter(([message]) => message === 'token rejected')
      .map(([, extra]) => extra as { reason?: unknown; detail?: unknown } | undefined);
    return {
      ...outcome,
      reasons: logged.map((extra) => extra?.reason),
      details: logged.map((extra) => extra?.detail),
    };
  } finally {
    info.mockRestore();
  }
}

/** The gateway answers 401 only for exactly `Error('Unauthorized')`. */
function expectUnauthorized(outcome: { result?: APIGatewayAuthorizerResult; error?: unknown }) {
  expect(outcome.result).toBeUndefined();
  expect(outcome.error).toBeInstanceOf(Error);
  expect(Object.getPrototypeOf(outcome.error)).toBe(Error.prototype);
  expect((outcome.error as Error).message).toBe('Unauthorized');
}

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  stranger = await generateKeyPair('RS256', { extractable: true });
  jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }] };
  rsaPublicPem = await exportSPKI(rsa.publicKey);
  jwksServer = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks));
  });
});

afterAll(async () => {
  await jwksServer.close();
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('authorizer: refusals are exactly Error("Unauthorized") (401)', () => {
  it('refuses a request without a token', async () => {
    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ accept: '*/*' }));

    // Assess
    expectUnauthorized(outcome);
  });

  it('refuses a request without any headers', async () => {
    // Act
    const outcome = await run(authorizer(remoteKeys()), event(null));

    // Assess
    expectUnauthorized(outcome);
  });

  it('refuses a malformed token', async () => {
    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ Authorization: 'Bearer not.a.jwt' }));

    // Assess
    expectUnauthorized(outcome);
  });

  it('refuses a bad signature', async () => {
    // Prepare
    const token = await sign(claims(), { key: stranger.privateKey });

    // Act
    const outcome = await runLogged(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED']);
  });

  it('refuses a token whose payload was altered after signing', async () => {
    // Prepare
    const [header, , signature] = (await sign(claims())).split('.');
    const forged = `${header}.${b64url(JSON.stringify(claims({ scope: 'downloads:all' })))}.${signature}`;

    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ Authorization: `Bearer ${forged}` }));

    // Assess
    expectUnauthorized(outcome);
  });

  it('refuses alg "none"', async () => {
    // Prepare
    const token = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(claims()))}.`;

    // Act
    const outcome = await runLogged(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess: refused by the algorithm allowlist, before any key is looked up.
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JOSE_ALG_NOT_ALLOWED']);
  });

  it('honours SIGNET_ALGORITHMS: narrowed to ES256, an RS256 token the JWKS could verify is refused', async () => {
    // Prepare
    const token = await sign(claims());
    const accepted = await run(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));
    expect(accepted.result?.policyDocument.Statement[0]?.Effect).toBe('Allow');

    // Act
    const outcome = await runLogged(
      authorizer(remoteKeys(), { SIGNET_ALGORITHMS: 'ES256' }),
      event({ Authorization: `Bearer ${token}` }),
    );

    // Assess
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JOSE_ALG_NOT_ALLOWED']);
  });

  it('refuses alg "none" with a known kid and a signature part', async () => {
    // Prepare
    const token = `${b64url('{"alg":"none","kid":"rsa-1"}')}.${b64url(JSON.stringify(claims()))}.${b64url('x')}`;

    // Act
    const outcome = await runLogged(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess: refused by the algorithm allowlist, before any key is looked up.
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JOSE_ALG_NOT_ALLOWED']);
  });

  it.each([
    ['the PEM text', () => new TextEncoder().encode(rsaPublicPem)],
    [
      'the DER bytes',
      () => new Uint8Array(Buffer.from(rsaPublicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')),
    ],
  ])('refuses HS256 signed with the RSA public key (%s) as the HMAC secret', async (_, secret) => {
    // Prepare
    const token = await sign(claims(), { alg: 'HS256', key: secret() });

    // Act
    const outcome = await runLogged(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess: refused by the algorithm allowlist, before any key is looked up.
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JOSE_ALG_NOT_ALLOWED']);
  });

  it.each([
    ['expired beyond the tolerance', { exp: NOW_S - 31 }],
    ['not yet valid beyond the tolerance', { nbf: NOW_S + 60 }],
    ['a wrong issuer', { iss: 'https://evil.test' }],
    ['a wrong audience', { aud: 'another-api' }],
    ['no exp', { exp: undefined }],
    ['no sub', { sub: undefined }],
  ])('refuses a token with %s', async (_, overrides) => {
    // Prepare
    const token = await sign(claims(overrides));

    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess
    expectUnauthorized(outcome);
  });

  it("refuses an unknown kid, even on a token the issuer's real key signed", async () => {
    // Prepare: a good signature, so only the kid lookup can refuse it.
    const token = await sign(claims(), { kid: 'unknown-kid' });

    // Act
    const outcome = await runLogged(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JWKS_NO_MATCHING_KEY']);
  });

  it('refuses a token naming a key the JWKS lists but jose refuses (RSA 1024), logging why, as a 401 and not a failure', async () => {
    // Prepare: an old key left in the issuer's set; the forged token needs no true signature.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const listing = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ keys: [...jwks.keys, { ...weak.publicKey.export({ format: 'jwk' }), kid: 'old' }] }),
      );
    });
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: 'old' }));
    const token = `${header}.${b64url(JSON.stringify(claims({ scope: 'downloads:all' })))}.AAAA`;
    const error = vi.spyOn(logger, 'error');

    // Act
    const outcome = await runLogged(
      authorizer(remoteKeys(listing.url)),
      event({ Authorization: `Bearer ${token}` }),
    );
    await listing.close();

    // Assess
    expectUnauthorized(outcome);
    expect(outcome.reasons).toEqual(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED']);
    expect(outcome.details).toEqual([expect.stringContaining('2048 bits or larger')]);
    expect(error).not.toHaveBeenCalled();
    error.mockRestore();
  });

  it.each<[string, (bob: string) => string]>([
    ['a bare "Bearer"', () => 'Bearer'],
    ['two tokens', (bob) => `Bearer ${bob} ${bob}`],
    ['a token with a stray quote', (bob) => `Bearer "${bob}"`],
    ['no space after Bearer', (bob) => `Bearer${bob}`],
    ['a colon after Bearer', (bob) => `Bearer: ${bob}`],
    ['a comma after Bearer', (bob) => `Bearer,${bob}`],
    ['a bare token', (bob) => bob],
    ['a JWT under another scheme name', (bob) => `JWT ${bob}`],
    ['a Token scheme holding a JWT', (bob) => `Token ${bob}`],
    ['a misspelt Bearer', (bob) => `Bearers ${bob}`],
    ['a Bearer joined to a Basic credential', (bob) => `Basic dXNlcjpwYXNz, Bearer ${bob}`],
  ])(
    "refuses a malformed Bearer header (%s), never falling back to another caller's cookie",
    async (_, header) => {
      // Prepare: bob's token in the header, alice's in the cookie.
      const bob = await sign(claims({ sub: 'bob' }));
      const alice = await sign(claims({ sub: 'alice' }));

      // Act
      const outcome = await run(
        authorizer(remoteKeys()),
        event({ Authorization: header(bob), Cookie: `signet_token=${alice}` }),
      );

      // Assess
      expectUnauthorized(outcome);
    },
  );

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['Token', 'Token abc'],
    ['AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/s3/aws4_request'],
  ])(
    'reads the cookie behind a %s Authorization header, which is not meant for Signet',
    async (_, authorization) => {
      // Prepare
      const token = await sign(claims());

      // Act
      const result = await authorizer(remoteKeys())(
        event({ Authorization: authorization, Cookie: `signet_token=${token}` }),
      );

      // Assess
      expect(result.principalId).toBe('alice');
      expect(result.policyDocument.Statement[0]?.Effect).toBe('Allow');
    },
  );

  it("refuses two Authorization headers, never reading another caller's cookie", async () => {
    // Prepare: Bearer bob then Basic, as the gateway hands them on (the last in headers).
    const bob = await sign(claims({ sub: 'bob' }));
    const alice = await sign(claims({ sub: 'alice' }));
    const twoHeaders = {
      ...event({ Authorization: 'Basic dXNlcjpwYXNz', Cookie: `signet_token=${alice}` }),
      multiValueHeaders: {
        Authorization: [`Bearer ${bob}`, 'Basic dXNlcjpwYXNz'],
        Cookie: [`signet_token=${alice}`],
      },
    };

    // Act
    const outcome = await run(authorizer(remoteKeys()), twoHeaders);

    // Assess
    expectUnauthorized(outcome);
  });

  it('refuses a Basic Authorization header with no cookie', async () => {
    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ Authorization: 'Basic dXNlcjpwYXNz' }));

    // Assess
    expectUnauthorized(outcome);
  });

  it('refuses a token in a cookie with another name', async () => {
    // Prepare
    const token = await sign(claims());

    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ Cookie: `session=${token}` }));

    // Assess
    expectUnauthorized(outcome);
  });

  it('never logs the token it refused', async () => {
    // Prepare
    const token = await sign(claims({ exp: NOW_S - 3600 }));
    const info = vi.spyOn(logger, 'info');
    const error = vi.spyOn(logger, 'error');

    // Act
    const outcome = await run(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

    // Assess
    expectUnauthorized(outcome);
    expect(JSON.stringify([info.mock.calls, error.mock.calls])).not.toContain(token.split('.')[2]);
    info.mockRestore();
    error.mockRestore();
  });

  it.each([
    [
      'a crit name',
      { alg: 'RS256', kid: 'rsa-1', crit: ['CALLER-TEXT'], 'CALLER-TEXT': 1 },
      claims(),
      { reason: 'ERR_JOSE_NOT_SUPPORTED' },
    ],
    [
      'an issuer',
      { alg: 'RS256', kid: 'rsa-1' },
      claims({ iss: 'CALLER-TEXT' }),
      { reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' },
    ],
    [
      'an audience',
      { alg: 'RS256', kid: 'rsa-1' },
      claims({ aud: 'CALLER-TEXT' }),
      { reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' },
    ],
  ])('logs why a token was refused without quoting it: %s of its own', async (_, header, payload, logged) => {
    // Prepare: signed by the issuer's key, so each reaches the check that names what it found.
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      // The signer told it knows the extension, which the authorizer does not.
      .sign(rsa.privateKey, { crit: { 'CALLER-TEXT': true } });
    const info = vi.spyOn(logger, 'info');

    try {
      // Act
      const outcome = await run(authorizer(remoteKeys()), event({ Authorization: `Bearer ${token}` }));

      // Assess
      expectUnauthorized(outcome);
      expect(info.mock.calls).toEqual([['token rejected', expect.objectContaining(logged)]]);
      expect(JSON.stringify(info.mock.calls)).not.toContain('CALLER-TEXT');
    } finally {
      info.mockRestore();
    }
  });
});

describe('authorizer: an unavailable JWKS never lets a request through', () => {
  it('fails (not 401) when the JWKS port is closed', async () => {
    // Prepare
    const closed = await serve(() => undefined);
    await closed.close();
    const token = await sign(claims());

    const error = vi.spyOn(logger, 'error');

    // Act
    const outcome = await run(
      authorizer(remoteKeys(closed.url)),
      event({ Authorization: `Bearer ${token}` }),
    );

    // Assess
    expect(outcome.result).toBeUndefined();
    expect(outcome.error).toBeInstanceOf(Error);
    expect((outcome.error as Error).message).toBe('AuthorizerUnavailable');
    expect(error).toHaveBeenCalledWith('token verification unavailable', expect.anything());
    error.mockRestore();
  });

  it("lets a bug out as itself (the gateway's authorizer failure), logged apart from a JWKS outage", async () => {
    // Prepare: an event that breaks the authorizer the way a bug would.
    const broken = event({});
    Object.defineProperty(broken, 'headers', {
      get() {
        throw new TypeError('a bug');
      },
    });
    const error = vi.spyOn(logger, 'error');

    // Act
    const outcome = await run(authorizer(remoteKeys()), broken);

    // Assess
    expect(outcome.result).toBeUndefined();
    expect(outcome.error).toBeInstanceOf(TypeError);
    expect(error).toHaveBeenCalledWith('authorizer failed', expect.anything());
    expect(error).not.toHaveBeenCalledWith('token verification unavailable', expect.anything());
    error.mockRestore();
  });

  it.each([
    ['answers 500', 500, '{"error":"boom"}'],
    ['answers 404', 404, 'not found'],
    ['answers 200 with garbage', 200, '<html>'],
    ['answers 200 with a non-JWKS', 200, '{"keys":"nope"}'],
  ])('fails (not 401) when the JWKS %s', async (_, status, body) => {
    // Prepare
    const broken = await serve((__, response) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body);
    });
    const token = await sign(claims());

    // Act
    const outcome = await run(
      authorizer(remoteKeys(broken.url)),
      event({ Authorization: `Bearer ${token}` }),
    );
    await broken.close();

    // Assess
    expect(broken.hits()).toBeGreaterThan(0);
    expect(outcome.result).toBeUndefined();
    expect(outcome.error).toBeInstanceOf(Error);
    expect((outcome.error as Error).message).toBe('AuthorizerUnavailable');
  });

  it('fails (not 401) when the JWKS does not answer in time', async () => {
    // Prepare
    const silent = await serve(() => undefined);
    const token = await sign(claims());
    const keys = createRemoteJWKSet(silent.url, { timeoutDuration: 100 });

    // Act
    const outcome = await run(authorizer(keys), event({ Authorization: `Bearer ${token}` }));
    await silent.close();

    // Assess
    expect(outcome.result).toBeUndefined();
    expect(outcome.error).toBeInstanceOf(Error);
    expect((outcome.error as Error).message).toBe('AuthorizerUnavailable');
  });
});

describe('authorizer: allowed requests', () => {
  it.each(['Authorization', 'authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn'])(
    'allows a Bearer token in the %s header',
    async (name) => {
      // Prepare
      const token = await sign(claims());

      // Act
      const result = await authorizer(remoteKeys())(event({ [name]: `Bearer ${token}` }));

      // Assess
      expect(result).toEqual({
        principalId: 'alice',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: STAGE_WILDCARD }],
        },
        context: { sub: 'alice', scope: 'downloads:read' },
      });
    },
  );

  it('allows the default signet_token cookie', async () => {
    // Prepare
    const token = await sign(claims());

    // Act
    const result = await authorizer(remoteKeys())(
      event({ Cookie: `theme=dark; signet_token=${token}; lang=en` }),
    );

    // Assess
    expect(result.principalId).toBe('alice');
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: STAGE_WILDCARD },
    ]);
  });

  it('allows a custom cookie name', async () => {
    // Prepare
    const token = await sign(claims());
    const auth = authorizer(remoteKeys(), { SIGNET_COOKIE_NAME: 'session' });

    // Act
    const allowed = await auth(event({ cookie: `session=${token}` }));
    const refused = await run(auth, event({ cookie: `signet_token=${token}` }));

    // Assess
    expect(allowed.principalId).toBe('alice');
    expectUnauthorized(refused);
  });

  it('prefers the Bearer header to the cookie', async () => {
    // Prepare
    const bearer = await sign(claims({ sub: 'alice' }));
    const cookie = await sign(claims({ sub: 'bob' }));

    // Act
    const result = await authorizer(remoteKeys())(
      event({ Authorization: `Bearer ${bearer}`, Cookie: `signet_token=${cookie}` }),
    );

    // Assess
    expect(result.principalId).toBe('alice');
    expect(result.context).toEqual({ sub: 'alice', scope: 'downloads:read' });
  });

  it.each([
    ['a scope string', { scope: 'downloads:read links:write' }, 'downloads:read links:write'],
    [
      'an scp array',
      { scope: undefined, scp: ['downloads:all', 'links:write'] },
      'downloads:all links:write',
    ],
    ['no scopes', { scope: undefined }, ''],
  ])('passes scopes from %s in the context', async (_, overrides, scope) => {
    // Prepare
    const token = await sign(claims({ sub: 'carol', ...overrides }));

    // Act
    const result = await authorizer(remoteKeys())(event({ Authorization: `Bearer ${token}` }));

    // Assess
    expect(result.context).toEqual({ sub: 'carol', scope });
  });

  it.each([
    ['expired 10 s ago', { exp: NOW_S - 10 }],
    ['valid 10 s from now', { nbf: NOW_S + 10 }],
  ])('honours the 30 s clock tolerance: a token %s passes', async (_, overrides) => {
    // Prepare
    const token = await sign(claims(overrides));

    // Act
    const result = await authorizer(remoteKeys())(event({ Authorization: `Bearer ${token}` }));

    // Assess
    expect(result.principalId).toBe('alice');
  });

  it('fetches the JWKS once and reuses it', async () => {
    // Prepare
    const counting = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(jwks));
    });
    const auth = authorizer(remoteKeys(counting.url));
    const token = await sign(claims());

    // Act
    await auth(event({ Authorization: `Bearer ${token}` }));
    await auth(event({ Authorization: `Bearer ${token}` }));
    await counting.close();

    // Assess
    expect(counting.hits()).toBe(1);
  });

  it('works with a local key set too', async () => {
    // Prepare
    const token = await sign(claims());

    // Act
    const result = await authorizer(createLocalJWKSet(jwks))(event({ Authorization: `Bearer ${token}` }));

    // Assess
    expect(result.principalId).toBe('alice');
  });
});

describe('stageWildcard', () => {
  it.each([
    [METHOD_ARN, STAGE_WILDCARD],
    [
      'arn:aws:execute-api:eu-west-1:111122223333:xyz789/$default/HEAD/d/users/alice/a b.pdf',
      'arn:aws:execute-api:eu-west-1:111122223333:xyz789/$default/*',
    ],
    [
      'arn:aws:execute-api:us-east-1:123456789012:abc123/dev/POST/links',
      'arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*',
    ],
  ])('turns %s into %s', (methodArn, expected) => {
    // Act
    const resource = stageWildcard(methodArn);

    // Assess
    expect(resource).toBe(expected);
  });
});

describe('authorizerFromEnv: the JWKS set the Lambda builds once per cold start', () => {
  const env = (jwksUrl: URL) => ({
    SIGNET_BUCKET: 'signet-test',
    SIGNET_REGION: 'us-east-1',
    SIGNET_ISSUER: ISSUER,
    SIGNET_AUDIENCE: AUDIENCE,
    SIGNET_JWKS_URL: jwksUrl.href,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });

  it("does not fetch the JWKS again for each unknown kid within jose's cooldown", async () => {
    // Prepare: with no cooldown, every forged kid would make the authorizer hit the issuer.
    const counting = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(jwks));
    });
    const auth = authorizerFromEnv(env(counting.url));

    try {
      // Act
      const outcomes = [];
      for (const kid of ['rsa-1', 'gone-1', 'gone-2', 'gone-3']) {
        const token = await sign(claims(), { kid });
        outcomes.push(await run(auth, event({ Authorization: `Bearer ${token}` })));
      }

      // Assess
      expect(outcomes[0]?.result?.policyDocument.Statement[0]?.Effect).toBe('Allow');
      for (const outcome of outcomes.slice(1)) expectUnauthorized(outcome);
      expect(counting.hits()).toBe(1);
    } finally {
      await counting.close();
    }
  });

  it('fetches the JWKS once for many requests', async () => {
    // Prepare
    const counting = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(jwks));
    });
    const auth = authorizerFromEnv(env(counting.url));
    const token = await sign(claims());

    try {
      // Act
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push(await run(auth, event({ Authorization: `Bearer ${token}` })));

      // Assess
      for (const outcome of outcomes)
        expect(outcome.result?.policyDocument.Statement[0]?.Effect).toBe('Allow');
      expect(counting.hits()).toBe(1);
    } finally {
      await counting.close();
    }
  });

  it('gives up on a JWKS that does not answer after its 2 s timeout (not jose’s 5 s), and denies', async () => {
    // Prepare
    const silent = await serve(() => undefined);
    const auth = authorizerFromEnv(env(silent.url));
    const token = await sign(claims());
    const started = performance.now();

    try {
      // Act
      const outcome = await run(auth, event({ Authorization: `Bearer ${token}` }));

      // Assess
      const elapsed = performance.now() - started;
      expect(outcome.result).toBeUndefined();
      expect((outcome.error as Error).message).toBe('AuthorizerUnavailable');
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      expect(elapsed).toBeLessThan(4500);
    } finally {
      await silent.close();
    }
  });
});
