import { generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import {
  CompactSign,
  createLocalJWKSet,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { extractToken, readCookie, type VerifyOptions, verifyToken } from '../../api/core/token.ts';
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

const OPTIONS: VerifyOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['RS256', 'ES256'],
  clockToleranceSeconds: 30,
};

let rsa: KeyPair;
let ec: KeyPair;
let stranger: KeyPair;
let keys: JWTVerifyGetKey;
let rsaPublicPem: string;

/** Signs with the issuer's RSA key unless told otherwise. */
function sign(
  payload: JWTPayload,
  { alg = 'RS256', kid = 'rsa-1', key }: { alg?: string; kid?: string | null; key?: SigningKey } = {},
): Promise<string> {
  return signWith(payload, key ?? rsa.privateKey, { alg, kid });
}

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  stranger = await generateKeyPair('RS256', { extractable: true });
  const jwks: { keys: JWK[] } = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  };
  keys = createLocalJWKSet(jwks);
  rsaPublicPem = await exportSPKI(rsa.publicKey);
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('readCookie', () => {
  it.each([
    ['the only cookie', 'signet_token=abc', 'abc'],
    ['among others', 'a=1; signet_token=abc; b=2', 'abc'],
    ['with spaces around', '  signet_token = abc ;x=1', 'abc'],
    ['absent', 'a=1; b=2', undefined],
    ['a longer name', 'signet_token_old=abc', undefined],
    ['empty', 'signet_token=', undefined],
    ['in double quotes (RFC 6265)', 'signet_token="abc"', 'abc'],
    ['empty double quotes', 'signet_token=""', undefined],
    ['a lone double quote', 'signet_token="', '"'],
    ['the first of two', 'signet_token=first; signet_token=second', 'first'],
    ['no header', undefined, undefined],
  ])('reads %s', (_, header, expected) => {
    // Act
    const value = readCookie(header, 'signet_token');

    // Assess
    expect(value).toBe(expected);
  });
});

describe('extractToken', () => {
  it.each([
    ['Authorization', { Authorization: 'Bearer a.b.c' }],
    ['authorization', { authorization: 'Bearer a.b.c' }],
    ['AUTHORIZATION', { AUTHORIZATION: 'Bearer a.b.c' }],
    ['a lower-case scheme', { authorization: 'bearer a.b.c' }],
  ])('reads a Bearer token from %s', (_, headers) => {
    // Act
    const token = extractToken(headers, 'signet_token');

    // Assess
    expect(token).toBe('a.b.c');
  });

  it.each([
    ['in the first of two Cookie lines', ['signet_token=a.b.c', 'other=1'], 'a.b.c'],
    ['in the last of two Cookie lines', ['other=1', 'signet_token=a.b.c'], 'a.b.c'],
    ['in both, the first line winning', ['signet_token=a.b.c', 'signet_token=c.d.e'], 'a.b.c'],
  ])(
    'reads the cookie %s, from multiValueHeaders (headers keeps the last line only)',
    (_, lines, expected) => {
      // Act
      const token = extractToken({ cookie: lines.at(-1) }, 'signet_token', { Cookie: lines });

      // Assess
      expect(token).toBe(expected);
    },
  );

  it.each([
    ['Authorization', { Authorization: 'Bearer a.b.c' }, { Authorization: null }],
    ['Cookie', { Cookie: 'signet_token=a.b.c' }, { Cookie: null }],
  ])('reads past a null %s in multiValueHeaders, a shape the type allows', (_, headers, multi) => {
    // Act
    const token = extractToken(headers, 'signet_token', multi as unknown as Record<string, string[]>);

    // Assess
    expect(token).toBe('a.b.c');
  });

  it('reads the cookie past an empty one of the same name', () => {
    // Act
    const token = extractToken({ cookie: 'signet_token=; signet_token=a.b.c' }, 'signet_token');

    // Assess
    expect(token).toBe('a.b.c');
  });

  it('reads the cookie without an Authorization header', () => {
    // Act
    const token = extractToken({ Cookie: 'x=1; sess=c.d.e' }, 'sess');

    // Assess
    expect(token).toBe('c.d.e');
  });

  it.each([
    ['Basic credentials', 'Basic dXNlcjpwYXNz'],
    ['a Digest credential', 'Digest username="u", realm="r"'],
    ['an empty Authorization', ''],
    // Quoted strings are not looked into for a token.
    [
      'a Digest uri holding a JWT-shaped query',
      'Digest username="u", uri="/d/x?t=eyJa.eyJb.c", response="r"',
    ],
    ['a Digest nonce shaped like a JWT', 'Digest username="u", nonce="eyJ0IjoxfQ.abc.def", response="r"'],
    ['a Digest realm naming Bearer', 'Digest realm="Company, Bearer Realm", username="u"'],
    ['a quoted string holding an escaped quote', 'Digest realm="a\\", Bearer x.y.z", username="u"'],
    ['a long run of escaped quotes, never closed', `Digest x="${'\\"'.repeat(8000)}`],
    // A JWT starts a run of base64url characters.
    ['a credential of "eyJ" over and over, no dots', `Basic ${'eyJ'.repeat(2700)}`],
    ['a credential with "eyJ" inside a longer run', 'Token QeyJa.eyJb.c'],
    ['a credential with "eyJ" after a "-"', 'Token Q-eyJa.eyJb.c'],
  ])('reads the cookie behind %s, which is not meant for Signet', (_, authorization) => {
    // Act
    const token = extractToken({ authorization, cookie: 'signet_token=c.d.e' }, 'signet_token');

    // Assess
    expect(token).toBe('c.d.e');
  });

  it.each([
    ['after a quoted string left open', 'Digest realm="r, Bearer a.b.c'],
    ['after a closed quoted string', 'Digest realm="r", Bearer a.b.c'],
    ['a JWT after an escaped quote left open', 'Digest x="\\" eyJa.eyJb.c'],
    ['a JWT in a quoted string broken by a backslash before U+2028', 'Digest x="\\\u2028 eyJa.b.c "'],
    ['a JWT in a quoted string broken by a backslash at the end', 'Digest x="eyJa.b.c \\'],
  ])('refuses a try at a token %s, never reading the cookie', (_, authorization) => {
    // Act
    const extract = () => extractToken({ authorization, cookie: 'signet_token=c.d.e' }, 'signet_token');

    // Assess
    expect(extract).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });

  it.each([
    [
      'in multiValueHeaders',
      { authorization: 'Basic eA==', cookie: 'signet_token=c.d.e' },
      { Authorization: ['Bearer a.b.c'], authorization: ['Basic eA=='] },
    ],
    [
      'in headers',
      { Authorization: 'Bearer a.b.c', authorization: 'Basic eA==', cookie: 'signet_token=c.d.e' },
      {},
    ],
  ])('refuses two Authorization headers whose names differ in case only (%s)', (_, headers, multi) => {
    // Act
    const extract = () => extractToken(headers, 'signet_token', multi);

    // Assess
    expect(extract).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });

  it('refuses two Authorization headers, whatever the last one holds', () => {
    // Act
    const extract = () =>
      extractToken({ authorization: 'Basic eA==', cookie: 'signet_token=c.d.e' }, 'signet_token', {
        Authorization: ['Bearer a.b.c', 'Basic eA=='],
      });

    // Assess
    expect(extract).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });

  it('prefers the Authorization header to the cookie', () => {
    // Act
    const token = extractToken(
      { authorization: 'Bearer a.b.c', cookie: 'signet_token=c.d.e' },
      'signet_token',
    );

    // Assess
    expect(token).toBe('a.b.c');
  });

  it.each([
    ['no headers', null],
    ['no credential', { accept: '*/*' }],
    ['Basic credentials and no cookie', { authorization: 'Basic dXNlcjpwYXNz' }],
    [
      'a malformed Bearer with a cookie behind it',
      { authorization: 'Bearer a b', cookie: 'signet_token=a.b.c' },
    ],
    ['an empty Authorization', { authorization: '' }],
    ['a bare "Bearer"', { authorization: 'Bearer' }],
    [
      '"Bearer" run into its token, with a cookie',
      { authorization: 'Bearera.b.c', cookie: 'signet_token=c.d.e' },
    ],
    ['a bare token, with a cookie', { authorization: 'a.b.c', cookie: 'signet_token=c.d.e' }],
    ['a scheme name with dots, with a cookie', { authorization: 'a.b.c d', cookie: 'signet_token=c.d.e' }],
    [
      'a JWT under another scheme, with a cookie',
      { authorization: 'JWT eyJa.eyJb.c', cookie: 'signet_token=c.d.e' },
    ],
    [
      'a JWT after another part of a credential, with a cookie',
      { authorization: 'Token x,eyJa.eyJb.c', cookie: 'signet_token=c.d.e' },
    ],
    [
      'a JWT after a token68 under another scheme, with a cookie',
      { authorization: 'Token abc eyJa.eyJb.c', cookie: 'signet_token=c.d.e' },
    ],
    [
      'a Bearer joined to Basic, with a cookie',
      { authorization: 'Basic eA==, Bearer a.b.c', cookie: 'signet_token=c.d.e' },
    ],
    ['two tokens', { authorization: 'Bearer a.b.c d.e.f' }],
    ['the wrong cookie', { cookie: 'other=a.b.c' }],
    ['a cookie whose name only ends with the name', { cookie: 'xsignet_token=a.b.c' }],
  ])('rejects %s', (_, headers) => {
    // Act
    const extract = () => extractToken(headers, 'signet_token');

    // Assess
    expect(extract).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });
});

describe('verifyToken', () => {
  it('returns the principal of a valid RS256 token', async () => {
    // Prepare
    const token = await sign(claims({ scope: 'downloads:read links:write' }));

    // Act
    const { principal, claims: verified } = await verifyToken(token, keys, OPTIONS);

    // Assess
    expect(principal.sub).toBe('alice');
    expect([...principal.scopes]).toEqual(['downloads:read', 'links:write']);
    expect(verified).toMatchObject({ iss: ISSUER, aud: AUDIENCE });
  });

  it('accepts ES256 and scopes from scp', async () => {
    // Prepare
    const token = await sign(claims({ scope: undefined, scp: ['downloads:all'] }), {
      alg: 'ES256',
      kid: 'ec-1',
      key: ec.privateKey,
    });

    // Act
    const { principal } = await verifyToken(token, keys, OPTIONS);

    // Assess
    expect([...principal.scopes]).toEqual(['downloads:all']);
  });

  it('accepts an audience list that contains the audience', async () => {
    // Prepare
    const token = await sign(claims({ aud: ['other', AUDIENCE] }));

    // Act
    const { principal } = await verifyToken(token, keys, OPTIONS);

    // Assess
    expect(principal.sub).toBe('alice');
  });

  it.each([
    ['expired 10 s ago', { exp: NOW_S - 10 }],
    ['not valid for another 10 s', { nbf: NOW_S + 10 }],
  ])('honours the 30 s clock tolerance: %s passes', async (_, overrides) => {
    // Prepare
    const token = await sign(claims(overrides));

    // Act
    const { principal } = await verifyToken(token, keys, OPTIONS);

    // Assess
    expect(principal.sub).toBe('alice');
  });

  it('rejects a token expired 10 s ago without tolerance', async () => {
    // Prepare
    const token = await sign(claims({ exp: NOW_S - 10 }));

    // Act
    const verify = verifyToken(token, keys, { ...OPTIONS, clockToleranceSeconds: 0 });

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAUTHORIZED', cause: { code: 'ERR_JWT_EXPIRED' } });
  });

  it.each([
    ['expired beyond tolerance', { exp: NOW_S - 31 }, 'ERR_JWT_EXPIRED'],
    ['not yet valid beyond tolerance', { nbf: NOW_S + 31 }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['a wrong issuer', { iss: 'https://evil.test' }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['an issuer with a trailing slash', { iss: `${ISSUER}/` }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['a wrong audience', { aud: 'someone-else' }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['no audience', { aud: undefined }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['no exp', { exp: undefined }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['no sub', { sub: undefined }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['a non-numeric exp', { exp: 'tomorrow' }, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ])('rejects a token with %s', async (_, overrides, joseCode) => {
    // Prepare
    const token = await sign(claims(overrides));

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAUTHORIZED', cause: { code: joseCode } });
  });

  it.each([
    ['a number', 42],
    ['empty', ''],
    ['an object', { id: 'alice' }],
  ])('rejects a token whose sub is %s', async (_, sub) => {
    // Prepare
    const token = await sign(claims({ sub }));

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('rejects a token whose exp is 1e999 in its JSON (Infinity: it would never expire)', async () => {
    // Prepare: JSON.stringify cannot write it, so the payload is written by hand.
    const json = JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e999');
    expect(json).toContain('"exp":1e999');
    const token = await new CompactSign(new TextEncoder().encode(json))
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1', typ: 'JWT' })
      .sign(rsa.privateKey);

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('rejects a token signed by another key under a known kid', async () => {
    // Prepare
    const token = await sign(claims(), { key: stranger.privateKey });

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
    });
  });

  describe('a token without a kid, or a kid two keys share (an issuer rotating keys)', () => {
    let rotating: JWTVerifyGetKey;

    beforeAll(async () => {
      // Two RSA keys a kid-less RS256 token matches, then the EC key.
      rotating = createLocalJWKSet({
        keys: [
          { ...(await exportJWK(stranger.publicKey)), kid: 'rsa-0', alg: 'RS256' },
          { ...(await exportJWK(rsa.publicKey)), alg: 'RS256' },
          { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' },
        ],
      });
    });

    it.each([
      ['no kid', null],
      ['a kid two keys share', 'shared'],
    ])('is verified by whichever matching key signed it: %s', async (_, kid) => {
      // Prepare
      const shared = createLocalJWKSet({
        keys: [
          { ...(await exportJWK(stranger.publicKey)), kid: 'shared', alg: 'RS256' },
          { ...(await exportJWK(rsa.publicKey)), kid: 'shared', alg: 'RS256' },
        ],
      });
      const token = await sign(claims(), { kid });

      // Act
      const { principal } = await verifyToken(token, kid === null ? rotating : shared, OPTIONS);

      // Assess
      expect(principal.sub).toBe('alice');
    });

    it('is verified past a key jose refuses to use (RSA under 2048 bits) listed first', async () => {
      // Prepare
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const set = createLocalJWKSet({
        keys: [
          { ...(weak.publicKey.export({ format: 'jwk' }) as JWK), alg: 'RS256' },
          { ...(await exportJWK(rsa.publicKey)), alg: 'RS256' },
        ],
      });
      const token = await sign(claims(), { kid: null });

      // Act
      const { principal } = await verifyToken(token, set, OPTIONS);

      // Assess
      expect(principal.sub).toBe('alice');
    });

    it('is rejected when no matching key verifies it', async () => {
      // Prepare
      const outsider = await generateKeyPair('RS256');
      const token = await sign(claims(), { kid: null, key: outsider.privateKey });

      // Act
      const verify = verifyToken(token, rotating, OPTIONS);

      // Assess
      await expect(verify).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        cause: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      });
    });

    it('is rejected for its claims once a key verifies its signature', async () => {
      // Prepare
      const token = await sign(claims({ exp: NOW_S - 3600 }), { kid: null });

      // Act
      const verify = verifyToken(token, rotating, OPTIONS);

      // Assess
      await expect(verify).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        cause: { code: 'ERR_JWT_EXPIRED' },
      });
    });
  });

  it('rejects an unknown kid', async () => {
    // Prepare
    const token = await sign(claims(), { kid: 'rotated-away', key: stranger.privateKey });

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
    });
  });

  describe('naming a key the issuer lists but jose refuses to use', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const shortEc = {
      ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK),
      x: 'AAAA',
    };
    /** A compact JWS signed by Node itself: jose would refuse to sign with a weak key too. */
    const signedWith = (kid: string, alg: string, key: Parameters<typeof rsaSign>[2] | undefined) => {
      const input = `${b64url(JSON.stringify({ alg, kid }))}.${b64url(JSON.stringify(claims()))}`;
      const signature = key ? rsaSign('sha256', Buffer.from(input), key).toString('base64url') : 'AAAA';
      return `${input}.${signature}`;
    };

    it.each([
      ['an RSA key under 2048 bits, with its true signature', 'weak', 'RS256', weak.privateKey],
      ['an RSA key under 2048 bits, with a forged signature', 'weak', 'RS256', undefined],
      ['an RSA JWK whose modulus is junk', 'junk', 'RS256', undefined],
      ['an EC JWK WebCrypto cannot import (a coordinate cut short)', 'short-ec', 'ES256', undefined],
    ])('rejects it as a bad signature (401, not a key set outage): %s', async (_, kid, alg, key) => {
      // Prepare: beside the issuer's good key, as a set with an old or broken entry lists it.
      const set = createLocalJWKSet({
        keys: [
          { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' },
          { ...(weak.publicKey.export({ format: 'jwk' }) as JWK), kid: 'weak', alg: 'RS256' },
          { kty: 'RSA', kid: 'junk', alg: 'RS256', n: 'AQAB', e: 'AQAB' },
          { ...shortEc, kid: 'short-ec', alg: 'ES256' },
        ],
      });

      // Act
      const verify = verifyToken(signedWith(kid, alg, key), set, OPTIONS);

      // Assess
      await expect(verify).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
        cause: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      });
    });
  });

  it('rejects alg "none"', async () => {
    // Prepare
    const token = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(claims()))}.`;

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
    });
  });

  it('rejects HS256 signed with the RSA public key as the HMAC secret', async () => {
    // Prepare
    const token = await sign(claims(), { alg: 'HS256', key: new TextEncoder().encode(rsaPublicPem) });

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
    });
  });

  it('rejects an RSA algorithm outside the allowlist (RS384)', async () => {
    // Prepare
    const rs384 = await generateKeyPair('RS384');
    const token = await sign(claims(), { alg: 'RS384', key: rs384.privateKey });

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
    });
  });

  it.each([
    ['garbage', 'not-a-jwt'],
    ['two parts', 'a.b'],
    ['bad base64 header', '!!!.e30.sig'],
    ['a JSON array payload', `${b64url('{"alg":"RS256","kid":"rsa-1"}')}.${b64url('[]')}.c2ln`],
  ])('rejects a malformed token: %s', async (_, token) => {
    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it.each([
    // Signed, so that jose reads past the signature to what it refuses.
    ['a JSON array as its payload', () => '[]', {}, undefined, 'ERR_JWT_INVALID'],
    [
      'a critical header parameter Signet does not know',
      () => JSON.stringify(claims()),
      { crit: ['x-unknown'], 'x-unknown': 1 },
      { 'x-unknown': true },
      'ERR_JOSE_NOT_SUPPORTED',
    ],
  ])('rejects a signed token with %s as 401, never 503', async (_, payload, header, crit, joseCode) => {
    // Prepare
    const token = await new CompactSign(new TextEncoder().encode(payload()))
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1', ...header })
      .sign(rsa.privateKey, crit ? { crit } : undefined);

    // Act
    const verify = verifyToken(token, keys, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAUTHORIZED', cause: { code: joseCode } });
  });

  it('answers UNAVAILABLE, not UNAUTHORIZED, when the key set cannot be read', async () => {
    // Prepare
    const token = await sign(claims());
    // As fetch fails on the network: a TypeError, its cause the network's error.
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const broken: JWTVerifyGetKey = async () => {
      throw new TypeError('fetch failed', { cause: refused });
    };

    // Act
    const verify = verifyToken(token, broken, OPTIONS);

    // Assess
    await expect(verify).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('lets a bug out as itself, not as an unavailable key set', async () => {
    // Prepare
    const token = await sign(claims());
    const buggy: JWTVerifyGetKey = async () => {
      throw new TypeError('keys.find is not a function');
    };

    // Act
    const verify = verifyToken(token, buggy, OPTIONS);

    // Assess
    await expect(verify).rejects.toThrow(TypeError);
    await expect(verifyToken(token, buggy, OPTIONS)).rejects.not.toHaveProperty('code');
  });
});
