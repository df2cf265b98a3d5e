import { createHash, createHmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest as IHttpRequest, QueryParameterBag, SourceData } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { rfc3986, type SigV4Options, type SigV4Request, verifySigV4 } from '../../infra/local/sigv4.ts';

const REGION = 'us-east-1';
const HOST = '127.0.0.1:9000';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local/secret+key' };
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** @smithy/hash-node's Hash, over node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
const bytes = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

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
      expect(verifySigV4(await sign(), options)).toEqual({ ok: true, accessKeyId: CREDENTIALS.accessKeyId });
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
      expect(verifySigV4(await presign({ query }), options)).toEqual({ ok: true, accessKeyId: 'AKIDLOCAL' });
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

    it('signs the raw path, so another spelling of the same key fails', async () => {
      const request = await presign({ path: objectPath(key) });
      // `.%74xt` is `.txt` to S3, but not the bytes that were signed.
      const respelled = {
        ...request,
        rawUrl: request.rawUrl.replace(/\.(\w)/, (_, c: string) => `.%${c.charCodeAt(0).toString(16)}`),
      };
      expect(respelled.rawUrl).not.toBe(request.rawUrl);
      expect(verifySigV4(respelled, options)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
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
      expect(result).toMatchObject({ ok: false, code: 'AccessDenied' });
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

    it('a malformed percent-escape in the query', async () => {
      const request = await presign();
      expect(verifySigV4({ ...request, rawUrl: `${request.rawUrl}&x=%E0%A4%A` }, options)).toMatchObject({
        ok: false,
      });
    });
  });
});
