import { createHash } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest as IHttpRequest, QueryParameterBag } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import {
  canonicalUri,
  rfc3986,
  type SignedChunk,
  type SigV4Options,
  type SigV4Request,
  verifyChunkSignatures,
  verifySigV4,
} from '../../infra/local/sigv4.ts';
import { Sha256 } from '../sha256.ts';

const REGION = 'us-east-1';
const HOST = '127.0.0.1:9000';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local/secret+key' };
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

const signer = (
  overrides: { region?: string; service?: string; secretAccessKey?: string; sessionToken?: string } = {},
) =>
  new SignatureV4({
    service: overrides.service ?? 's3',
    region: overrides.region ?? REGION,
    credentials: { ...CREDENTIALS, ...overrides },
    sha256: Sha256,
    uriEscapePath: false,
  });

const options: SigV4Options = {
  secretFor: (id) => (id === CREDENTIALS.accessKeyId ? CREDENTIALS.secretAccessKey : undefined),
  region: REGION,
  service: 's3',
  now: NOW,
};

/** The path the SDK sends for a key: each segment RFC 3986-encoded. */
const objectPath = (key: string) => `/bucket/${key.split('/').map(rfc3986).join('/')}`;

function toWire(request: IHttpRequest): SigV4Request {
  const query = Object.entries(request.query as QueryParameterBag).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value ?? '']).map((v) => `${rfc3986(name)}=${rfc3986(v)}`),
  );
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, v]) => [name.toLowerCase(), v]),
  );
  return {
    method: request.method,
    rawUrl: query.length ? `${request.path}?${query.join('&')}` : request.path,
    headers,
  };
}

interface Shape {
  method?: string;
  path?: string;
  query?: QueryParameterBag;
  headers?: Record<string, string>;
  body?: string;
}
const prepare = ({ method = 'GET', path = objectPath('file.txt'), query = {}, headers = {}, body }: Shape) =>
  new HttpRequest({
    method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 9000,
    path,
    query,
    headers: { host: HOST, ...headers },
    body,
  });

/** A header-signed request, as S3Client sends it. */
async function sign(shape: Shape = {}, signingDate = NOW, s = signer()): Promise<SigV4Request> {
  const hash =
    shape.body === undefined ? EMPTY_SHA256 : createHash('sha256').update(shape.body).digest('hex');
  const request = prepare({ ...shape, headers: { 'x-amz-content-sha256': hash, ...shape.headers } });
  return toWire(await s.sign(request, { signingDate }));
}

/** A presigned URL request, as getSignedUrl makes it (UNSIGNED-PAYLOAD, hoisted into the query). */
async function presign(
  shape: Shape = {},
  signingDate = NOW,
  expiresIn = 300,
  s = signer(),
): Promise<SigV4Request> {
  const request = prepare({
    ...shape,
    headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...shape.headers },
  });
  return toWire(await s.presign(request, { signingDate, expiresIn }));
}

const replaceParam = (request: SigV4Request, name: string, value: string): SigV4Request => ({
  ...request,
  rawUrl: request.rawUrl.replace(new RegExp(`([?&]${name}=)[^&]*`), `$1${value}`),
});
const flipLast = (text: string) => text.slice(0, -1) + (text.endsWith('0') ? '1' : '0');

describe('verifySigV4', () => {
  describe('accepts what the SDK signs', () => {
    it('a header-signed GET', async () => {
      expect(verifySigV4(await sign(), options)).toMatchObject({
        ok: true,
        accessKeyId: CREDENTIALS.accessKeyId,
      });
    });

    it('a header-signed PUT with a body hash, metadata and padded header values', async () => {
      const request = await sign({
        method: 'PUT',
        body: 'hello',
        headers: { 'content-type': 'text/plain', 'x-amz-meta-note': '  two   spaces  ' },
      });
      expect(verifySigV4(request, options).ok).toBe(true);
    });

    it('a presigned GET with response-content-disposition, repeated and prefix-named parameters', async () => {
      // Sorted by name, then value: `a=2` before `a-b=1`, though `a-b=1` sorts first as a string.
      const query = {
        'response-content-disposition': `attachment; filename*=UTF-8''%C3%9C.pdf`,
        x: ['2', '1'],
        'a-b': '1',
        a: '2',
      };
      expect(verifySigV4(await presign({ query }), options)).toMatchObject({
        ok: true,
        accessKeyId: 'AKIDLOCAL',
      });
    });

    it('a presigned GET made with temporary credentials (X-Amz-Security-Token)', async () => {
      const request = await presign({}, NOW, 300, signer({ sessionToken: 'token/with+chars=' }));
      expect(request.rawUrl).toContain('X-Amz-Security-Token=');
      expect(verifySigV4(request, options).ok).toBe(true);
    });

    it('a header-signed request up to 15 minutes off', async () => {
      expect(verifySigV4(await sign({}, new Date(NOW.getTime() - 14 * 60_000)), options).ok).toBe(true);
      expect(verifySigV4(await sign({}, new Date(NOW.getTime() + 14 * 60_000)), options).ok).toBe(true);
    });

    it('a presigned URL up to its last second', async () => {
      expect(verifySigV4(await presign({}, new Date(NOW.getTime() - 300_000)), options).ok).toBe(true);
    });
  });

  describe.each([
    'dir/a+b=c&d$e@f;g:h i.txt',
    'Überblick 報告.pdf',
    "it's (1) *final*!.txt",
    'tilde~/100%/plain.txt',
  ])('key %j', (key) => {
    it('verifies header-signed and presigned requests', async () => {
      expect(verifySigV4(await sign({ path: objectPath(key) }), options).ok).toBe(true);
      expect(verifySigV4(await presign({ path: objectPath(key) }), options).ok).toBe(true);
    });

    it('reads the path as S3 does, decoded and encoded once: another spelling of the key verifies', async () => {
      const request = await presign({ path: objectPath(key) });
      // `.%74xt` is `.txt` to S3, which signs the key's own encoding.
      const respelled = {
        ...request,
        rawUrl: request.rawUrl.replace(/\.(\w)/, (_, c: string) => `.%${c.charCodeAt(0).toString(16)}`),
      };
      expect(respelled.rawUrl).not.toBe(request.rawUrl);
      expect(verifySigV4(respelled, options).ok).toBe(true);
    });
  });

  describe('signs the path in the form S3 does (each segment encoded once, RFC 3986)', () => {
    it.each([
      ['a raw "=" sent, signed as "%3D"', '/bucket/a=b.txt', '/bucket/a%3Db.txt', true],
      ['a raw "=" sent, signed raw', '/bucket/a=b.txt', '/bucket/a=b.txt', false],
      ['a lowercase "%3d" sent and signed as sent', '/bucket/a%3db.txt', '/bucket/a%3db.txt', false],
      ['a lowercase "%3d" sent, signed as "%3D"', '/bucket/a%3db.txt', '/bucket/a%3Db.txt', true],
      ['an encoded slash kept in its segment', '/bucket/a%2Fb.txt', '/bucket/a%2Fb.txt', true],
      ['a raw "+" sent, signed as a space (S3 reads it so)', '/bucket/a+b.txt', '/bucket/a%20b.txt', true],
      ['a raw "+" sent, signed as a plus', '/bucket/a+b.txt', '/bucket/a%2Bb.txt', false],
    ])('%s: %s', async (_, sent, signed, ok) => {
      const request = await sign({ path: signed });
      expect(verifySigV4({ ...request, rawUrl: sent }, options).ok).toBe(ok);
    });

    it('canonicalUri: decoded and encoded once, a segment that does not decode kept as sent', () => {
      expect(canonicalUri("/b/a=b:c@d$e&f;g+h i'(j)*!~.txt")).toBe(
        '/b/a%3Db%3Ac%40d%24e%26f%3Bg%20h%20i%27%28j%29%2A%21~.txt',
      );
      expect(canonicalUri('/b/%C3%9Cber%2fblick')).toBe('/b/%C3%9Cber%2Fblick');
      expect(canonicalUri('/b/a%2Bb')).toBe('/b/a%2Bb');
      expect(canonicalUri('/b/100%/x')).toBe('/b/100%/x');
    });
  });

  describe('rejects tampering', () => {
    it.each([
      ['the path', (r: SigV4Request) => ({ ...r, rawUrl: r.rawUrl.replace('file.txt', 'file.txu') })],
      ['the method', (r: SigV4Request) => ({ ...r, method: 'HEAD' })],
      [
        'a signed header',
        (r: SigV4Request) => ({ ...r, headers: { ...r.headers, host: 'evil.example:9000' } }),
      ],
      [
        'the signature',
        (r: SigV4Request) => ({ ...r, rawUrl: r.rawUrl.replace(/(Signature=[0-9a-f]*)/, flipLast) }),
      ],
      ['an added parameter', (r: SigV4Request) => ({ ...r, rawUrl: `${r.rawUrl}&versionId=1` })],
      [
        'response-content-disposition',
        (r: SigV4Request) => replaceParam(r, 'response-content-disposition', 'inline'),
      ],
    ])('presigned: %s', async (_, tamper) => {
      const request = await presign({ query: { 'response-content-disposition': 'attachment' } });
      expect(verifySigV4(tamper(request), options)).toMatchObject({
        ok: false,
        code: 'SignatureDoesNotMatch',
      });
    });

    it.each([
      ['the path', (r: SigV4Request) => ({ ...r, rawUrl: '/bucket/other.txt' })],
      ['the query', (r: SigV4Request) => ({ ...r, rawUrl: `${r.rawUrl}?acl` })],
      [
        'a signed header',
        (r: SigV4Request) => ({ ...r, headers: { ...r.headers, 'x-amz-meta-owner': 'mallory' } }),
      ],
      [
        'the body hash',
        (r: SigV4Request) => ({
          ...r,
          headers: { ...r.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        }),
      ],
      [
        'the signature',
        (r: SigV4Request) => ({
          ...r,
          headers: { ...r.headers, authorization: flipLast(String(r.headers.authorization)) },
        }),
      ],
      [
        'a truncated signature',
        (r: SigV4Request) => ({
          ...r,
          headers: { ...r.headers, authorization: String(r.headers.authorization).slice(0, -2) },
        }),
      ],
      [
        'an X-Amz-Signature query parameter added (only a presigned URL leaves it out)',
        (r: SigV4Request) => ({ ...r, rawUrl: `${r.rawUrl}?X-Amz-Signature=1` }),
      ],
    ])('header-signed: %s', async (_, tamper) => {
      const request = await sign({ headers: { 'x-amz-meta-owner': 'alice' } });
      expect(verifySigV4(tamper(request), options)).toMatchObject({
        ok: false,
        code: 'SignatureDoesNotMatch',
      });
    });

    it('a presigned URL with an unsigned x-amz-* header added', async () => {
      const request = await presign();
      const result = verifySigV4(
        { ...request, headers: { ...request.headers, 'x-amz-acl': 'public-read' } },
        options,
      );
      expect(result).toMatchObject({ ok: false, code: 'AccessDenied' });
    });
  });

  describe('rejects bad credentials and times', () => {
    it('a wrong secret', async () => {
      const s = signer({ secretAccessKey: 'not-the-secret' });
      expect(verifySigV4(await sign({}, NOW, s), options)).toMatchObject({ code: 'SignatureDoesNotMatch' });
      expect(verifySigV4(await presign({}, NOW, 300, s), options)).toMatchObject({
        code: 'SignatureDoesNotMatch',
      });
    });

    it('an unknown access key id', async () => {
      const unknown = { ...options, secretFor: () => undefined };
      expect(verifySigV4(await sign(), unknown)).toMatchObject({ ok: false, code: 'InvalidAccessKeyId' });
      expect(verifySigV4(await presign(), unknown)).toMatchObject({ ok: false, code: 'InvalidAccessKeyId' });
    });

    it('a wrong region or service in the credential scope', async () => {
      for (const s of [signer({ region: 'eu-west-1' }), signer({ service: 'execute-api' })]) {
        expect(verifySigV4(await sign({}, NOW, s), options)).toMatchObject({ code: 'SignatureDoesNotMatch' });
        expect(verifySigV4(await presign({}, NOW, 300, s), options)).toMatchObject({
          code: 'AuthorizationQueryParametersError',
        });
      }
    });

    it('a credential scope dated another day than X-Amz-Date', async () => {
      const otherDay = (text: string) => text.replace(/(AKID[^/]*\/)\d{8}/, '$119990101');
      const presigned = await presign();
      const credential = new URLSearchParams(presigned.rawUrl.split('?')[1]).get('X-Amz-Credential') ?? '';
      const header = await sign();

      const query = verifySigV4(
        replaceParam(presigned, 'X-Amz-Credential', encodeURIComponent(otherDay(credential))),
        options,
      );
      const inHeader = verifySigV4(
        {
          ...header,
          headers: { ...header.headers, authorization: otherDay(header.headers.authorization as string) },
        },
        options,
      );

      expect(otherDay(credential)).not.toBe(credential);
      // Refused for the scope, before any signature is compared.
      const scope = { ok: false, message: 'Error parsing the credential scope' };
      expect(query).toMatchObject({ ...scope, code: 'AuthorizationQueryParametersError' });
      expect(inHeader).toMatchObject({ ...scope, code: 'SignatureDoesNotMatch' });
    });

    it('an expired presigned URL', async () => {
      const result = verifySigV4(await presign({}, new Date(NOW.getTime() - 301_000)), options);
      expect(result).toEqual({ ok: false, code: 'AccessDenied', message: 'Request has expired' });
    });

    it('X-Amz-Expires over 7 days', async () => {
      const request = replaceParam(await presign(), 'X-Amz-Expires', '604801');
      expect(verifySigV4(request, options)).toMatchObject({ code: 'AuthorizationQueryParametersError' });
    });

    it('a presigned URL from the future', async () => {
      const result = verifySigV4(await presign({}, new Date(NOW.getTime() + 16 * 60_000)), options);
      expect(result).toMatchObject({ ok: false, code: 'AccessDenied' });
    });

    it('a header-signed request more than 15 minutes off', async () => {
      for (const offset of [-16 * 60_000, 16 * 60_000]) {
        const result = verifySigV4(await sign({}, new Date(NOW.getTime() + offset)), options);
        expect(result).toMatchObject({ ok: false, code: 'RequestTimeTooSkewed' });
      }
    });
  });

  describe('rejects requests that are not signed properly', () => {
    it('an unsigned request', () => {
      const request = { method: 'GET', rawUrl: '/bucket/file.txt', headers: { host: HOST } };
      expect(verifySigV4(request, options)).toMatchObject({ ok: false, code: 'AccessDenied' });
    });

    it('a header-signed request without x-amz-content-sha256', async () => {
      const { 'x-amz-content-sha256': _, ...headers } = (await sign()).headers;
      const result = verifySigV4({ method: 'GET', rawUrl: '/bucket/file.txt', headers }, options);
      expect(result).toMatchObject({ ok: false, code: 'MissingSecurityHeader' });
    });

    it('a presigned URL missing a parameter', async () => {
      const request = await presign();
      const result = verifySigV4(
        { ...request, rawUrl: request.rawUrl.replace(/X-Amz-Date=[^&]*&?/, '') },
        options,
      );
      expect(result).toMatchObject({ ok: false, code: 'AuthorizationQueryParametersError' });
    });

    it('both an Authorization header and a presigned query', async () => {
      const [header, query] = [await sign(), await presign()];
      const result = verifySigV4({ ...query, headers: { ...query.headers, ...header.headers } }, options);
      expect(result).toMatchObject({
        ok: false,
        code: 'AccessDenied',
        message: 'Only one auth mechanism allowed',
      });
    });

    it('a signature version 2 Authorization header', () => {
      const headers = { host: HOST, authorization: 'AWS AKIDLOCAL:c2lnbmF0dXJl' };
      expect(verifySigV4({ method: 'GET', rawUrl: '/bucket/file.txt', headers }, options)).toMatchObject({
        code: 'AccessDenied',
      });
    });

    it.each([
      ['an upper-case name', 'Host;x-amz-date'],
      ['an empty name', 'host;;x-amz-date'],
      ['a name with a space', 'host;x amz'],
    ])('a presigned URL whose X-Amz-SignedHeaders holds %s', async (_, names) => {
      const request = await presign();
      const result = verifySigV4(
        replaceParam(request, 'X-Amz-SignedHeaders', encodeURIComponent(names)),
        options,
      );
      expect(result).toMatchObject({ ok: false, code: 'AuthorizationQueryParametersError' });
    });

    it('a presigned URL that does not sign host, though correctly signed otherwise', async () => {
      // Range signed in its place, so the list of signed headers is well formed.
      const request = prepare({
        headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', range: 'bytes=0-1' },
      });
      const signed = toWire(
        await signer().presign(request, {
          signingDate: NOW,
          expiresIn: 300,
          unsignableHeaders: new Set(['host']),
        }),
      );

      expect(new URLSearchParams(signed.rawUrl.split('?')[1]).get('X-Amz-SignedHeaders')).toBe('range');
      expect(verifySigV4(signed, options)).toMatchObject({
        ok: false,
        code: 'AuthorizationQueryParametersError',
      });
    });

    it.each([['host;constructor'], ['__proto__;host'], ['host;tostring']])(
      'a presigned URL that signs a header it does not send, named like an object member: %s',
      async (names) => {
        const request = await presign();
        const result = verifySigV4(
          replaceParam(request, 'X-Amz-SignedHeaders', encodeURIComponent(names)),
          options,
        );
        expect(result).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
      },
    );

    it.each(['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Expires'])(
      'a presigned URL with %s given twice, even with the same value',
      async (name) => {
        const request = await presign();
        const value = new URLSearchParams(request.rawUrl.split('?')[1]).get(name) ?? '';
        const result = verifySigV4(
          { ...request, rawUrl: `${request.rawUrl}&${name}=${encodeURIComponent(value)}` },
          options,
        );
        expect(result).toMatchObject({ ok: false, code: 'AuthorizationQueryParametersError' });
      },
    );

    it('a header-signed request carrying an x-amz-* header it did not sign', async () => {
      const request = await sign();
      const result = verifySigV4(
        { ...request, headers: { ...request.headers, 'x-amz-meta-evil': 'injected' } },
        options,
      );
      expect(result).toMatchObject({ ok: false, code: 'AccessDenied' });
    });

    it('a malformed percent-escape in the query', async () => {
      const request = await presign();
      expect(verifySigV4({ ...request, rawUrl: `${request.rawUrl}&x=%E0%A4%A` }, options)).toMatchObject({
        ok: false,
      });
    });
  });
});

describe('verifyChunkSignatures: the signed streaming upload AWS publishes', () => {
  // "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
  // Chunks" (Amazon S3 API reference): 66560 bytes of "a" in chunks of 65536, 1024 and 0,
  // with the seed and chunk signatures AWS prints; the trailer signature over
  // first:1st, second:2nd, third:3rd is the one awslabs' CRT tests pin.
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  const CHUNK_SIGNATURES = [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ];
  const TRAILER_SIGNATURE = 'df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c';
  const request: SigV4Request = {
    method: 'PUT',
    rawUrl: '/examplebucket/chunkObject.txt',
    headers: {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'content-length': '66824',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;' +
        `x-amz-decoded-content-length;x-amz-storage-class,Signature=${SEED}`,
    },
  };
  const verify = () =>
    verifySigV4(request, {
      secretFor: (id) => (id === 'AKIAIOSFODNN7EXAMPLE' ? SECRET : undefined),
      region: 'us-east-1',
      service: 's3',
      now: new Date('2013-05-24T00:00:00Z'),
    });
  const chunks = () =>
    [65536, 1024, 0].map((size, i) => ({ data: Buffer.alloc(size, 'a'), signature: CHUNK_SIGNATURES[i] }));

  function seedOf(result: ReturnType<typeof verifySigV4>) {
    if (!result.ok) throw new Error(`the seed request was refused: ${result.code}`);
    return result.seed;
  }

  it('accepts the seed request and every chunk signature', () => {
    // Act
    const result = verify();

    // Assess
    expect(result).toMatchObject({ ok: true, seed: { signature: SEED } });
    expect(verifyChunkSignatures(seedOf(result), chunks())).toBe(true);
  });

  it('accepts the trailer signature over the trailing headers', () => {
    // Prepare
    const headers = new Map([
      ['first', '1st'],
      ['second', '2nd'],
      ['third', '3rd'],
    ]);

    // Act
    const ok = verifyChunkSignatures(seedOf(verify()), chunks(), { headers, signature: TRAILER_SIGNATURE });
    const changed = verifyChunkSignatures(seedOf(verify()), chunks(), {
      headers: new Map([...headers, ['third', '4th']]),
      signature: TRAILER_SIGNATURE,
    });

    // Assess
    expect(ok).toBe(true);
    expect(changed).toBe(false);
  });

  it.each([
    ['one byte of a chunk changed', (c: SignedChunk[]) => c[1]?.data.fill('b', 10, 11)],
    ['two chunks swapped', (c: SignedChunk[]) => c.splice(0, 2, c[1] as SignedChunk, c[0] as SignedChunk)],
    ['a chunk left out', (c: SignedChunk[]) => c.splice(1, 1)],
    ['the last (empty) chunk left out', (c: SignedChunk[]) => c.pop()],
    [
      'a chunk without its signature',
      (c: SignedChunk[]) => c.splice(0, 1, { data: Buffer.alloc(65536, 'a'), signature: undefined }),
    ],
  ])('refuses a body with %s', (_, tamper) => {
    // Prepare
    const body = chunks();
    tamper(body);

    // Act
    const ok = verifyChunkSignatures(seedOf(verify()), body);

    // Assess
    expect(ok).toBe(false);
  });
});
