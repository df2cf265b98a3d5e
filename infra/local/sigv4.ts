import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { queryPairs } from './http.ts';

export type SigV4ErrorCode =
  | 'AccessDenied'
  | 'SignatureDoesNotMatch'
  | 'InvalidAccessKeyId'
  | 'RequestTimeTooSkewed'
  | 'AuthorizationQueryParametersError'
  | 'MissingSecurityHeader';

export interface SigV4Request {
  method: string;
  /** Path and query exactly as received (`req.url`), never normalized. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
}

export interface SigV4Options {
  /** The secret for an access key id, or undefined when the key is unknown. */
  secretFor(accessKeyId: string): string | undefined;
  region: string;
  service: string;
  /** The verifier's clock. */
  now: Date;
}

/** What a signed streaming body's chunk signatures chain from: the request's own signature. */
export interface SeedSignature {
  readonly signature: string;
  readonly amzDate: string;
  /** `date/region/service/aws4_request`. */
  readonly scope: string;
  readonly key: Buffer;
}

export type SigV4Result =
  | { ok: true; accessKeyId: string; seed: SeedSignature }
  | { ok: false; code: SigV4ErrorCode; message: string };

/** The query parameters that carry a presigned URL's signature: each may appear once. */
const AUTH_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
];

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MILLIS = 15 * 60 * 1000;
const MAX_EXPIRES_SECONDS = 604_800;
/** A lowercase HTTP header name (RFC 9110 token), as SigV4 lists it in SignedHeaders. */
const SIGNED_HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  if (!Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};
const compare = (a = '', b = ''): number => (a < b ? -1 : a > b ? 1 : 0);
const fail = (code: SigV4ErrorCode, message: string): SigV4Result => ({ ok: false, code, message });
const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 strict encoding, as SigV4 wants: everything but `A-Za-z0-9-._~` is percent-encoded. */
export const rfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A path as S3 reads it: a raw `+` is a space there (a legacy of form encoding); `%2B` is a plus. */
export const plusAsSpace = (path: string): string => path.replaceAll('+', '%20');

/**
 * The canonical URI S3 signs a path as: each segment decoded, then encoded once by RFC 3986,
 * so `a=b`, `a%3db` and `a%3Db` are all `a%3Db` (S3's canonical request shows a raw `=` as
 * `%3D`), and a raw `+` is `%20`. A segment that does not decode stays as sent; the request
 * is refused later.
 */
export function canonicalUri(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return rfc3986(decodeURIComponent(plusAsSpace(segment)));
      } catch {
        return segment;
      }
    })
    .join('/');
}

const signingKeys = new Map<string, Buffer>();
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    if (signingKeys.size >= 64) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

function parseAmzDate(value: string | undefined): number | undefined {
  const time =
    value !== undefined && AMZ_DATE.test(value)
      ? Date.parse(value.replace(AMZ_DATE, '$1-$2-$3T$4:$5:$6Z'))
      : Number.NaN;
  return Number.isNaN(time) ? undefined : time;
}

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';

/**
 * Verifies an AWS Signature Version 4 request the way S3 does, header-signed (`Authorization`)
 * or query-signed (presigned URL). Presigned URLs live at most 604800 s; header-signed
 * requests may be at most 15 minutes off `now`.
 */
export function verifySigV4(request: SigV4Request, options: SigV4Options): SigV4Result {
  const { headers } = request;
  const now = options.now.getTime();
  const q = request.rawUrl.indexOf('?');
  const path = (q < 0 ? request.rawUrl : request.rawUrl.slice(0, q)) || '/';
  const params = queryPairs(request.rawUrl);
  if (!params) return fail('AccessDenied', 'Malformed query string');
  const param = (name: string) => params.find(([n]) => n === name)?.[1];
  const isQuery = param('X-Amz-Algorithm') !== undefined;
  const authorization = headerValue(headers, 'authorization');
  if (isQuery && authorization !== undefined) return fail('AccessDenied', 'Only one auth mechanism allowed');
  // How S3 names a malformed or mismatched credential, for each mechanism.
  const malformed: SigV4ErrorCode = isQuery ? 'AuthorizationQueryParametersError' : 'SignatureDoesNotMatch';
  const repeated = AUTH_PARAMS.find((name) => params.filter(([n]) => n === name).length > 1);
  if (repeated) return fail('AuthorizationQueryParametersError', `${repeated} is given more than once`);

  let fields: (string | undefined)[];
  let payloadHash: string | undefined;
  if (isQuery) {
    if (param('X-Amz-Algorithm') !== ALGORITHM)
      return fail(malformed, `X-Amz-Algorithm must be ${ALGORITHM}`);
    fields = ['Credential', 'SignedHeaders', 'Signature', 'Date'].map((name) => param(`X-Amz-${name}`));
    const expires = param('X-Amz-Expires') ?? '';
    const signedAt = parseAmzDate(fields[3]);
    if (fields.includes(undefined) || signedAt === undefined || !/^\d+$/.test(expires)) {
      return fail(malformed, 'X-Amz-Credential, -Date, -Expires, -SignedHeaders and -Signature are required');
    }
    if (Number(expires) > MAX_EXPIRES_SECONDS)
      return fail(malformed, 'X-Amz-Expires must be at most 604800 seconds');
    if (now > signedAt + Number(expires) * 1000) return fail('AccessDenied', 'Request has expired');
    if (signedAt - now > MAX_SKEW_MILLIS) return fail('AccessDenied', 'Request is not valid yet');
    payloadHash = 'UNSIGNED-PAYLOAD';
  } else {
    if (authorization === undefined) return fail('AccessDenied', 'Access Denied');
    if (!authorization.startsWith(`${ALGORITHM} `))
      return fail('AccessDenied', `Only ${ALGORITHM} is supported`);
    const parts = new Map(
      authorization
        .slice(ALGORITHM.length)
        .split(',')
        .map((part) => {
          const [name = '', ...value] = part.trim().split('=');
          return [name, value.join('=')];
        }),
    );
    const amzDate = headerValue(headers, 'x-amz-date');
    fields = [parts.get('Credential'), parts.get('SignedHeaders'), parts.get('Signature'), amzDate];
    if (fields.includes(undefined))
      return fail(malformed, 'Credential, SignedHeaders and Signature are required');
    const signedAt = parseAmzDate(amzDate);
    if (signedAt === undefined) return fail('AccessDenied', 'A valid x-amz-date header is required');
    payloadHash = headerValue(headers, 'x-amz-content-sha256');
    if (payloadHash === undefined) return fail('MissingSecurityHeader', 'Missing x-amz-content-sha256');
    if (Math.abs(now - signedAt) > MAX_SKEW_MILLIS) {
      return fail(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
    }
  }
  const [credential = '', signedHeaders = '', signature = '', amzDate = ''] = fields;

  const [accessKeyId = '', date = '', region, service, terminator, ...rest] = credential.split('/');
  const secret = options.secretFor(accessKeyId);
  if (secret === undefined)
    return fail('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist');
  if (date !== amzDate.slice(0, 8) || terminator !== 'aws4_request' || rest.length > 0) {
    return fail(malformed, 'Error parsing the credential scope');
  }
  if (region !== options.region)
    return fail(malformed, `The region '${region}' is wrong; expecting '${options.region}'`);
  if (service !== options.service) return fail(malformed, `The service '${service}' is wrong`);

  const names = signedHeaders.split(';');
  if (!names.every((name) => SIGNED_HEADER_NAME.test(name))) {
    return fail(malformed, 'The signed headers must be lowercase header names separated by ";"');
  }
  if (!names.includes('host')) return fail(malformed, 'The host header must be signed');
  if (Object.keys(headers).some((name) => name.startsWith('x-amz-') && !names.includes(name))) {
    return fail('AccessDenied', 'There were headers present in the request which were not signed');
  }
  const canonicalHeaders = names
    .map((name) => `${name}:${(headerValue(headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalQuery = params
    // The signature itself is left out of a presigned URL's query; in a header-signed
    // request, an `X-Amz-Signature` parameter is one more the signature must cover.
    .filter(([name]) => !isQuery || name !== 'X-Amz-Signature')
    .map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`)
    .sort((a, b) => compare(a.split('=')[0], b.split('=')[0]) || compare(a, b))
    .join('&');
  const canonicalRequest = `${request.method}\n${canonicalUri(path)}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${date}/${region}/${service}/aws4_request\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(secret, date, region, service);
  if (!sameSignature(hmac(key, stringToSign).toString('hex'), signature)) {
    return fail('SignatureDoesNotMatch', MISMATCH);
  }
  return {
    ok: true,
    accessKeyId,
    seed: { signature, amzDate, scope: `${date}/${region}/${service}/aws4_request`, key },
  };
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(provided);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One chunk of a signed `aws-chunked` body: its data and the signature it came with. */
export interface SignedChunk {
  readonly data: Buffer;
  readonly signature: string | undefined;
}

const EMPTY_SHA256 = sha256Hex('');

/**
 * Checks the chunk signatures of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body, each chained
 * to the one before it from the request's seed signature, the last (empty) chunk included;
 * with trailers (`...-PAYLOAD-TRAILER`) also `x-amz-trailer-signature` over them.
 */
export function verifyChunkSignatures(
  seed: SeedSignature,
  chunks: readonly SignedChunk[],
  trailer?: { headers: ReadonlyMap<string, string>; signature: string | undefined },
): boolean {
  const chained = (kind: string, previous: string, hash: string) =>
    hmac(seed.key, `${kind}\n${seed.amzDate}\n${seed.scope}\n${previous}\n${hash}`).toString('hex');
  // The body ends with an empty chunk, signed like the others: without it, a cut-off body
  // would pass.
  if (chunks.at(-1)?.data.length !== 0) return false;
  let previous = seed.signature;
  for (const { data, signature } of chunks) {
    const expected = chained(
      'AWS4-HMAC-SHA256-PAYLOAD',
      previous,
      `${EMPTY_SHA256}\n${createHash('sha256').update(data).digest('hex')}`,
    );
    if (signature === undefined || !sameSignature(expected, signature)) return false;
    previous = signature;
  }
  if (!trailer) return true;
  const canonical = [...trailer.headers].map(([name, value]) => `${name}:${value}\n`).join('');
  const expected = chained('AWS4-HMAC-SHA256-TRAILER', previous, sha256Hex(canonical));
  return trailer.signature !== undefined && sameSignature(expected, trailer.signature);
}
