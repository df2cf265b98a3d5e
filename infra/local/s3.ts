import { createHash, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import {
  answerClientErrors,
  type ClientErrorAnswer,
  CONNECT,
  closeServer,
  HOP_BY_HOP,
  queryPairs,
  readBody,
} from './http.ts';
import {
  escapes,
  keyOf,
  NO_SUCH_UPLOAD,
  parseCompletion,
  parseDeleteObjects,
  type StorageProblem,
  storageProblem,
  unstorableKey,
} from './s3-requests.ts';
import { plusAsSpace, type SignedChunk, verifyChunkSignatures, verifySigV4 } from './sigv4.ts';

/** What `startLocalS3` needs. */
export interface LocalS3Options {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Where objects are stored; kept across restarts. */
  directory: string;
  /** The only key pair the server accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The region requests must be signed for. */
  region: string;
  /** Buckets created on start (existing ones are kept). */
  buckets: string[];
  /**
   * The largest request body taken, in bytes (an upload's is held in memory; any other is
   * read and dropped). Default MAX_LOCAL_BODY_BYTES (512 MiB).
   */
  maxBodyBytes?: number;
}

/** A running local S3. */
export interface LocalS3 {
  /** `http://HOST:PORT`, for path-style clients (`forcePathStyle: true`). */
  endpoint: string;
  port: number;
  /** Stops both servers and drops every connection. */
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo | string>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverConstructor;
// s3rver looks header- and query-signed requests' key ids up in this registry (it checks no
// V4 signature), and honours `response-*` overrides only for requests it deems authenticated.
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
};

const escapeXml = (text: string): string => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

const errorXml = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  req.resume();
  const body = errorXml(code, message);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/xml',
    'content-length': req.method === 'HEAD' ? 0 : Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** What Node's HTTP parser reports, as S3's own answer to it. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [string, string, number?]>> = {
  HPE_HEADER_OVERFLOW: [
    'RequestHeaderSectionTooLarge',
    'Your request header section exceeds the maximum allowed size.',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [
    'RequestTimeout',
    'Your socket connection to the server was not read from or written to within the timeout period.',
  ],
  [CONNECT]: ['MethodNotAllowed', 'The specified method is not allowed against this resource.', 405],
};

/** A request Node's parser refused, answered 400 in S3's XML error shape, as S3 answers it. */
export function clientErrorXml(nodeCode: string): ClientErrorAnswer {
  const [code, message, status = 400] = CLIENT_ERRORS[nodeCode] ?? [
    'BadRequest',
    'An error occurred when parsing the HTTP request.',
  ];
  const headers = {
    'Content-Type': 'application/xml',
    ...(status === 405 ? { Allow: 'GET, HEAD, PUT, POST, DELETE' } : {}),
  };
  return { status, headers, body: errorXml(code, message) };
}

function forwardHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The most of a request body the local S3 holds in memory (it reads an upload whole before
 * s3rver stores it): S3 itself takes 5 GiB in one PUT, a local stack needs far less.
 */
export const MAX_LOCAL_BODY_BYTES = 512 * 1024 * 1024;

/** A body over MAX_LOCAL_BODY_BYTES: answered 400 EntityTooLarge, as S3 answers its own limit. */
class BodyTooLarge extends Error {}

async function readWholeBody(
  req: IncomingMessage,
  limit = MAX_LOCAL_BODY_BYTES,
  keep = true,
): Promise<Buffer> {
  const body = await readBody(req, limit, keep);
  if (body === undefined) throw new BodyTooLarge();
  return body;
}

/** An `aws-chunked` body, taken apart. */
export interface AwsChunkedBody {
  /** Every chunk with the signature it came with, the last (empty) one included. */
  readonly chunks: readonly SignedChunk[];
  /** The trailing headers (`x-amz-checksum-*`), names lowercased, in order. */
  readonly trailers: ReadonlyMap<string, string>;
  /** `x-amz-trailer-signature`, sent after the trailers of a signed upload. */
  readonly trailerSignature: string | undefined;
  /** The object's bytes. */
  readonly data: Buffer;
}

/**
 * Takes an `aws-chunked` body apart (`hex-size[;chunk-signature=..]\r\n data \r\n`, ...,
 * `0[;chunk-signature=..]\r\n`, then `name:value\r\n` trailers and an empty line that ends it), which
 * s3rver would otherwise store verbatim; undefined when it is malformed.
 */
export function parseAwsChunked(body: Buffer): AwsChunkedBody | undefined {
  const chunks: SignedChunk[] = [];
  let pos = 0;
  for (;;) {
    // Each chunk costs memory and, signed, an HMAC: a body of a million 1-byte chunks would
    // take gigabytes. SDKs send 8–64 KiB chunks, so a 512 MiB upload is a few tens of thousands.
    if (chunks.length > MAX_AWS_CHUNKS) return undefined;
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const [sizeText = '', ...extensions] = body.toString('latin1', pos, eol).split(';');
    const size = /^[0-9a-f]+$/i.test(sizeText) ? Number.parseInt(sizeText, 16) : Number.NaN;
    if (!Number.isSafeInteger(size) || eol + 2 + size > body.length) return undefined;
    const signature = extensions
      .map((extension) => extension.trim())
      .find((extension) => extension.startsWith('chunk-signature='))
      ?.slice('chunk-signature='.length);
    chunks.push({ data: body.subarray(eol + 2, eol + 2 + size), signature });
    pos = eol + 2 + size;
    if (size === 0) break;
    if (body.toString('latin1', pos, pos + 2) !== '\r\n') return undefined;
    pos += 2;
  }
  const trailers = new Map<string, string>();
  let trailerSignature: string | undefined;
  // The trailer lines, each ended by CRLF, then the empty line that ends the body: a body
  // cut short before it, or with bytes after it, is malformed.
  const lines = body.toString('latin1', pos).split('\r\n');
  const end = lines.indexOf('');
  if (end !== lines.length - 2 || lines[end + 1] !== '') return undefined;
  for (const line of lines.slice(0, end)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else trailers.set(name, value);
  }
  return { chunks, trailers, trailerSignature, data: Buffer.concat(chunks.map((chunk) => chunk.data)) };
}

/** The most chunks an aws-chunked body may have here. */
export const MAX_AWS_CHUNKS = 100_000;

/** The `x-amz-content-sha256` values S3 takes besides a hex SHA-256 (SigV4A's are not supported here). */
const PAYLOAD_MODES = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
]);

interface Checksum {
  update(data: Uint8Array): void;
  digest(): Promise<Uint8Array>;
}
const nodeHash = (algorithm: string): Checksum => {
  const hash = createHash(algorithm);
  return {
    update: (data) => hash.update(data),
    digest: async () => hash.digest(),
  };
};
/** The checksums S3 checks on upload (`x-amz-checksum-<name>`, base64 of the digest). */
const CHECKSUMS: Readonly<Record<string, () => Checksum>> = {
  crc32: () => new Crc32(),
  crc32c: () => new Crc32c(),
  crc64nvme: () => new Crc64Nvme(),
  sha1: () => nodeHash('sha1'),
  sha256: () => nodeHash('sha256'),
};

/** The first `x-amz-checksum-*` (header or trailer) that `data` does not match, or undefined. */
async function wrongChecksum(
  declared: Iterable<readonly [string, unknown]>,
  data: Buffer,
): Promise<string | undefined> {
  for (const [name, value] of declared) {
    const algorithm = name.startsWith('x-amz-checksum-') ? name.slice('x-amz-checksum-'.length) : '';
    const make = Object.hasOwn(CHECKSUMS, algorithm) ? CHECKSUMS[algorithm] : undefined;
    if (!make || typeof value !== 'string') continue;
    const checksum = make();
    checksum.update(data);
    if (Buffer.from(await checksum.digest()).toString('base64') !== value) return algorithm;
  }
  return undefined;
}

/** What S3 knows of an object that conditional requests are checked against. */
interface Validators {
  readonly etag: string;
  /** Milliseconds since the epoch, whole seconds as `Last-Modified` says. */
  readonly lastModified: number;
}

const ENTITY_TAG = /(W\/)?"[^"]*"/g;

/** Whether an `If-Match`/`If-None-Match` list holds `etag` (`*` holds any), weakly or strongly compared. */
function listHolds(list: string, etag: string, weak: boolean): boolean {
  if (list.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return [...list.matchAll(ENTITY_TAG)].some(
    ([tag, weakPrefix]) => tag.replace(/^W\//, '') === opaque && (weak || (!weakPrefix && opaque === etag)),
  );
}

/** RFC 9110 §5.6.7's three forms: IMF-fixdate, RFC 850 and asctime. */
const HTTP_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]+day, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** An HTTP-date in ms, or undefined for anything else (which a recipient must ignore). */
const httpDate = (value: string | undefined): number | undefined => {
  const time = value !== undefined && HTTP_DATE.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? undefined : time;
};

/**
 * RFC 9110 §13.2.2, as S3 applies it to GET and HEAD: `If-Match` (else
 * `If-Unmodified-Since`) failing is a 412; `If-None-Match` (else `If-Modified-Since`)
 * holding is a 304; otherwise the request goes on (200).
 */
export function evaluatePreconditions(headers: IncomingHttpHeaders, current: Validators): 200 | 304 | 412 {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!listHolds(ifMatch, current.etag, false)) return 412;
  } else {
    const since = httpDate(headers['if-unmodified-since']);
    if (since !== undefined && current.lastModified > since) return 412;
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (listHolds(ifNoneMatch, current.etag, true)) return 304;
  } else {
    const since = httpDate(headers['if-modified-since']);
    if (since !== undefined && current.lastModified <= since) return 304;
  }
  return 200;
}

/**
 * The query parameters that make a request on an object path another operation than
 * GetObject or HeadObject (`?tagging`, `?acl`, `?uploadId`, ...): s3rver's own lists, which
 * its router reads. Any other parameter (`?v=2`) leaves it a GetObject, as on S3.
 */
const SUBRESOURCES: ReadonlySet<string> = new Set([
  ...(require('s3rver/lib/controllers/object.js') as { METHODS: string[] }).METHODS,
  ...(require('s3rver/lib/controllers/bucket.js') as { METHODS: string[] }).METHODS,
]);

const CONDITIONAL_HEADERS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

/** What to do with a `Range` header. */
type RangePlan =
  /** Serve the whole object (no range, a malformed or multi-range one, a failed `If-Range`). */
  | { readonly kind: 'whole' }
  /** Not satisfiable: a 416 whose `Content-Range` gives the size. */
  | { readonly kind: 'unsatisfiable'; readonly size: number }
  /** Bytes `start` to `end` inclusive, both within the object. */
  | { readonly kind: 'part'; readonly start: number; readonly end: number; readonly size: number };

/**
 * Plans a `Range` read as S3 does, from the object's size: s3rver itself reads `bytes=-N`
 * as `0-N` and `bytes=0-0` as `0-`, answers a range of an empty object with a 206 it never
 * sends, mangles multi-range and malformed headers (which S3 ignores), and ignores
 * `If-Range`. `ifRange` says whether the `If-Range` validator, if any, holds.
 */
export function planRange(range: string, size: number, ifRange: boolean): RangePlan {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '') || !ifRange) return { kind: 'whole' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable', size };
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1, size };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (last < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable', size };
  return { kind: 'part', start, end: Math.min(last, size - 1), size };
}

/**
 * RFC 9110 §13.1.5: whether `If-Range` lets the Range stand: only a strong entity tag equal
 * to the object's. A date is not taken: S3 dates have whole seconds, so two versions written
 * within one second share a `Last-Modified`, and the date is no strong validator (§8.8.2.2).
 * Anything else (a date, a weak tag, a changed object) means the whole object.
 */
export function ifRangeHolds(value: string | undefined, etag: string): boolean {
  if (value === undefined) return true;
  const tag = value.trim();
  return tag.startsWith('"') && tag === etag;
}

/** The first byte of a body that has one; the rest is not read (the stream is destroyed). */
async function firstByte(body: IncomingMessage): Promise<Buffer> {
  for await (const chunk of body) return (chunk as Buffer).subarray(0, 1);
  return Buffer.alloc(0);
}

/** The longest Unix socket path every platform takes (Linux's limit is 108 bytes, macOS's 104). */
const MAX_SOCKET_PATH_BYTES = 100;

/** The socket folders of the local S3s running in this process, removed on exit by one listener. */
const SOCKET_FOLDERS = new Set<string>();
function removeSocketFolders(): void {
  for (const dir of SOCKET_FOLDERS) rmSync(dir, { recursive: true, force: true });
}

/**
 * A socket for s3rver only this user can reach: in a new folder of mode 0700 under TMPDIR
 * (or /tmp, where TMPDIR is too long for a socket path), a named pipe on Windows. Tried once
 * here: s3rver starts its server with a callback that runs only on success, so a socket
 * that cannot be made would end the process instead of failing the start. `remove` takes
 * the folder away; so does the process's exit, should it end without a stop.
 */
async function privateSocket(): Promise<{ path: string; remove: () => void }> {
  if (process.platform === 'win32') {
    return { path: `\\\\.\\pipe\\signet-s3-${randomUUID()}`, remove: () => undefined };
  }
  const base = [tmpdir(), '/tmp'].find(
    (dir) => Buffer.byteLength(join(dir, 'signet-s3-XXXXXX', 's3rver')) <= MAX_SOCKET_PATH_BYTES,
  );
  if (base === undefined) throw new Error(`TMPDIR is too long for a socket path: ${tmpdir()}`);
  const dir = await mkdtemp(join(base, 'signet-s3-'));
  if (SOCKET_FOLDERS.size === 0) process.on('exit', removeSocketFolders);
  SOCKET_FOLDERS.add(dir);
  const remove = () => {
    SOCKET_FOLDERS.delete(dir);
    if (SOCKET_FOLDERS.size === 0) process.off('exit', removeSocketFolders);
    rmSync(dir, { recursive: true, force: true });
  };
  const path = join(dir, 's3rver');
  try {
    await new Promise<void>((resolve, reject) => {
      const probe = createNetServer().once('error', reject);
      // Closing the probe removes its socket file, for s3rver to make again.
      probe.listen(path, () => probe.close(() => resolve()));
    });
  } catch (error) {
    remove();
    throw error;
  }
  return { path, remove };
}

/**
 * Starts an S3-compatible server (s3rver) behind a front that checks AWS SigV4 as S3 does:
 * unsigned, tampered, expired or wrongly scoped requests get a 403 S3 XML error.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const { credentials, region } = options;
  await mkdir(options.directory, { recursive: true });
  DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  // s3rver checks no signature, so it has no TCP port anyone could reach around the check.
  const socket = await privateSocket();
  const s3rver = new S3rver({
    port: socket.path,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  try {
    await s3rver.run();
  } catch (error) {
    socket.remove();
    throw error;
  }
  // Every header the front checked reaches s3rver: Node drops those past its 2,000th.
  if (s3rver.httpServer) s3rver.httpServer.maxHeadersCount = 0;
  // The Host s3rver is asked for; it names it back in CompleteMultipartUpload's answer.
  const innerHost = 's3rver.internal';
  const agent = new Agent({ keepAlive: true });

  const upstream = (method: string, path: string, headers: OutgoingHttpHeaders) =>
    httpRequest({
      socketPath: socket.path,
      method,
      path,
      headers: { ...headers, host: innerHost },
      agent,
    });

  /** The object as s3rver has it: size and validators, or undefined when it is missing. */
  const objectHead = async (path: string) => {
    const head = upstream('HEAD', path.split('?')[0] ?? path, {});
    head.end();
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      head.on('response', resolve).on('error', reject),
    );
    res.resume();
    const size = Number(res.headers['content-length']);
    if (res.statusCode !== 200 || !Number.isSafeInteger(size)) return undefined;
    const lastModified = httpDate(res.headers['last-modified']) ?? 0;
    return { size, etag: String(res.headers.etag ?? ''), lastModified };
  };

  /** s3rver keeps an upload's parts as `<bucket>/._S3rver_uploads/<uploadId>/<n>` and `<n>.md5`. */
  const uploadDir = (bucket: string, uploadId: string) =>
    join(options.directory, bucket, '._S3rver_uploads', uploadId);
  const bodyLimit = options.maxBodyBytes ?? MAX_LOCAL_BODY_BYTES;
  /** The write or delete now at s3rver; the next waits for it, done or failed. */
  let writing: Promise<unknown> = Promise.resolve();
  const oneAtATime = (task: () => Promise<void>): Promise<void> => {
    const turn = writing.then(task, task);
    writing = turn.catch(() => undefined);
    return turn;
  };
  /** The uploads (`bucket/uploadId`) being completed now. */
  const completing = new Set<string>();
  /** Whether s3rver started this upload (it wrote the upload's key). */
  const uploadStarted = (bucket: string, uploadId: string) =>
    readFile(join(uploadDir(bucket, uploadId), 'key')).then(
      () => true,
      () => false,
    );

  /**
   * A CompleteMultipartUpload checked against the parts s3rver holds (an unknown upload, a
   * missing or changed part must not reach it: a missing part crashes it), and the body
   * s3rver gets instead: exactly the parts checked, written plainly.
   */
  async function checkedCompletion(
    bucket: string,
    uploadId: string,
    body: Buffer,
  ): Promise<StorageProblem | Buffer> {
    const parts = parseCompletion(body.toString('utf8'));
    if (!Array.isArray(parts)) return parts;
    const dir = uploadDir(bucket, uploadId);
    if (!(await uploadStarted(bucket, uploadId))) return NO_SUCH_UPLOAD;
    let previous = 0;
    for (const { number, etag } of parts) {
      if (Number(number) <= previous) {
        return {
          status: 400,
          code: 'InvalidPartOrder',
          message: 'The list of parts was not in ascending order.',
        };
      }
      previous = Number(number);
      const md5 = await readFile(join(dir, `${number}.md5`), 'utf8').catch(() => undefined);
      if (md5 === undefined || md5.trim() !== etag) {
        return {
          status: 400,
          code: 'InvalidPart',
          message: 'One or more of the specified parts could not be found or its entity tag did not match.',
        };
      }
    }
    const listed = parts.map(
      ({ number, etag }) =>
        `<Part><PartNumber>${number}</PartNumber><ETag>"${escapeXml(etag)}"</ETag></Part>`,
    );
    return Buffer.from(`<CompleteMultipartUpload>${listed.join('')}</CompleteMultipartUpload>`);
  }

  /**
   * DeleteObjects, answered here: each key deleted through s3rver's DeleteObject, as S3
   * answers it (a key that cannot exist here counts as deleted, as a missing key does).
   */
  async function deleteObjects(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    body: Buffer,
  ): Promise<void> {
    const parsed = parseDeleteObjects(body.toString('utf8'));
    if ('status' in parsed) return sendError(req, res, parsed.status, parsed.code, parsed.message);
    const bucketThere = await stat(join(options.directory, bucket)).then(
      (found) => found.isDirectory(),
      () => false,
    );
    if (!bucketThere) return sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const results: string[] = [];
    for (const key of parsed.keys) {
      if (key === '') {
        results.push(
          '<Error><Key></Key><Code>UserKeyMustBeSpecified</Code><Message>The key is empty.</Message></Error>',
        );
        continue;
      }
      if (!escapes(key) && !unstorableKey(key)) {
        const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
        const deletion = upstream('DELETE', path, {});
        deletion.end();
        const answer = await new Promise<IncomingMessage>((resolve, reject) =>
          deletion.on('response', resolve).on('error', reject),
        );
        answer.resume();
        if ((answer.statusCode ?? 500) >= 300) {
          results.push(
            `<Error><Key>${escapeXml(key)}</Key><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`,
          );
          continue;
        }
      }
      if (!parsed.quiet) results.push(`<Deleted><Key>${escapeXml(key)}</Key></Deleted>`);
    }
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${results.join('')}</DeleteResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const verdict = verifySigV4(
      { method, rawUrl: target, headers: req.headers },
      {
        secretFor: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
        region,
        service: 's3',
        now: new Date(),
      },
    );
    // Every request that fails the signature check is a 403, as the contract asks (S3 itself
    // answers a few malformed credentials 400).
    if (!verdict.ok) return sendError(req, res, 403, verdict.code, verdict.message);
    // From here on, the path names the key S3 would: a raw `+` is a space.
    const queryAt = target.indexOf('?');
    const rawUrl =
      queryAt < 0 ? plusAsSpace(target) : plusAsSpace(target.slice(0, queryAt)) + target.slice(queryAt);

    const refused = storageProblem(method, rawUrl, req.headers);
    if (refused) return sendError(req, res, refused.status, refused.code, refused.message);
    // Decodable: storageProblem checked it.
    const key = keyOf(decodeURIComponent(rawUrl.split('?', 1)[0] ?? ''));

    const headers = forwardHeaders(req.headers);
    let body: Buffer | undefined;
    const payloadHash = String(req.headers['x-amz-content-sha256']);
    const headerSigned = req.headers.authorization !== undefined;
    const hexPayload = /^[0-9a-f]{64}$/.test(payloadHash);
    if (headerSigned && !hexPayload && !PAYLOAD_MODES.has(payloadHash)) {
      return sendError(
        req,
        res,
        400,
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- mode or a hex SHA-256',
      );
    }
    if (headerSigned && hexPayload) {
      body = await readWholeBody(req, bodyLimit);
      if (createHash('sha256').update(body).digest('hex') !== payloadHash) {
        return sendError(
          req,
          res,
          403,
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
      }
    }
    // SDK uploads of streams arrive aws-chunked (STREAMING-UNSIGNED-PAYLOAD-TRAILER by default).
    const encodings = String(req.headers['content-encoding'] ?? '')
      .split(',')
      .map((e) => e.trim());
    let trailers: ReadonlyMap<string, string> = new Map();
    if (payloadHash.startsWith('STREAMING-') || encodings.includes('aws-chunked')) {
      const chunked = parseAwsChunked(body ?? (await readWholeBody(req, bodyLimit)));
      const declared = req.headers['x-amz-decoded-content-length'];
      if (!chunked || (declared !== undefined && Number(declared) !== chunked.data.length)) {
        return sendError(req, res, 400, 'IncompleteBody', 'The aws-chunked request body is malformed');
      }
      // Signed streaming: every chunk (and the trailers) signed, chained from the seed.
      if (headerSigned && payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) {
        const trailer = payloadHash.endsWith('-TRAILER')
          ? { headers: chunked.trailers, signature: chunked.trailerSignature }
          : undefined;
        if (!verifyChunkSignatures(verdict.seed, chunked.chunks, trailer)) {
          return sendError(req, res, 403, 'SignatureDoesNotMatch', 'A chunk signature does not match');
        }
      }
      const announced = String(req.headers['x-amz-trailer'] ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter(Boolean);
      if (announced.some((name) => !chunked.trailers.has(name))) {
        return sendError(
          req,
          res,
          400,
          'MalformedTrailerError',
          'The request contained trailing data that was not well-formed or did not conform to our published schema.',
        );
      }
      body = chunked.data;
      trailers = chunked.trailers;
      const rest = encodings.filter((e) => e !== 'aws-chunked' && e !== '');
      if (rest.length > 0) headers['content-encoding'] = rest.join(', ');
      else delete headers['content-encoding'];
      for (const name of ['x-amz-decoded-content-length', 'x-amz-trailer']) delete headers[name];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    }
    // Checksums, from headers, trailers or a presigned URL's query, are checked against the
    // bytes of an upload (a PUT of an object or a part) as S3 does; on other requests, such as
    // completing a multipart upload, they describe the object, not the body.
    const checksums =
      method === 'PUT'
        ? [
            ...Object.entries(req.headers),
            ...trailers,
            // Read as the signature check read them (verified, so well-formed).
            ...(queryPairs(rawUrl) ?? []).map(([name, value]) => [name.toLowerCase(), value] as const),
          ].filter(([name]) => name.startsWith('x-amz-checksum-'))
        : [];
    if (checksums.length > 0) {
      body ??= await readWholeBody(req, bodyLimit);
      const wrong = await wrongChecksum(checksums, body);
      if (wrong) {
        return sendError(
          req,
          res,
          400,
          'BadDigest',
          `The ${wrong.toUpperCase()} you specified did not match the calculated checksum.`,
        );
      }
    }
    // Content-MD5 (RFC 1864), which S3 checks on every upload that carries it.
    const md5 = req.headers['content-md5'] as string | undefined;
    if (md5 !== undefined && (method === 'PUT' || method === 'POST')) {
      const declared = Buffer.from(md5, 'base64');
      if (declared.length !== 16 || declared.toString('base64') !== md5.trim()) {
        return sendError(req, res, 400, 'InvalidDigest', 'The Content-MD5 you specified was not valid.');
      }
      body ??= await readWholeBody(req, bodyLimit);
      if (!createHash('md5').update(body).digest().equals(declared)) {
        return sendError(
          req,
          res,
          400,
          'BadDigest',
          'The Content-MD5 you specified did not match what we received.',
        );
      }
    }
    // An upload is read whole before s3rver sees it: s3rver writes into the object's own file
    // as bytes arrive, so an upload cut short would replace the object with its first part
    // (S3 keeps the old object). A body that never completes ends here, with the request.
    if (method === 'PUT' || method === 'POST') body ??= await readWholeBody(req, bodyLimit);
    else {
      // Any other request's body is read to its end as it arrives (up to the same limit) and
      // dropped, as S3 ignores it. Passed on, it would reach s3rver unframed (Node frames no
      // body on a GET, HEAD or DELETE, and the framing header is hop-by-hop): a second
      // request on the connection, one no signature covers.
      body = await readWholeBody(req, bodyLimit, false);
    }
    headers['content-length'] = body.length;

    const query = new Map(queryPairs(rawUrl) ?? []);
    // GetObject or HeadObject: conditions and Range apply to them only, not to a listing or a
    // subresource (`?tagging`, `?acl`, ...) of the same path.
    const objectRead =
      (method === 'GET' || method === 'HEAD') &&
      key !== '' &&
      ![...query.keys()].some((name) => SUBRESOURCES.has(name));
    // Everything but object reads reaches s3rver one at a time (object reads go on beside):
    // s3rver removes a key's emptied folder on a delete while a write into it is about to
    // open its file, and that error ends the process.
    const forward = async (): Promise<void> => {
      // Operations whose body names keys or parts: s3rver would take a key in the body as a
      // path (a DeleteObjects of `../x` deletes outside its folder), or crash the process on a
      // part it does not have. They are answered, or checked, here.
      const bucket = decodeURIComponent(rawUrl.split('?', 1)[0] ?? '').split('/')[1] ?? '';
      const uploadId = query.get('uploadId');
      const upload = `${bucket}/${uploadId}`;
      if (method === 'PUT' && uploadId !== undefined) {
        if (!query.has('partNumber')) {
          return sendError(req, res, 400, 'InvalidArgument', 'An upload part needs a partNumber');
        }
        // A part for an upload s3rver never started, or is completing: S3's 404, not a file
        // written into a folder being removed.
        if (completing.has(upload) || !(await uploadStarted(bucket, uploadId))) {
          return sendError(req, res, NO_SUCH_UPLOAD.status, NO_SUCH_UPLOAD.code, NO_SUCH_UPLOAD.message);
        }
      }
      if (method === 'POST' && body !== undefined) {
        const names = new Set(query.keys());
        if (key === '' && names.has('delete')) return deleteObjects(req, res, bucket, body);
        if (key === '') {
          return sendError(
            req,
            res,
            501,
            'NotImplemented',
            'POST Object (browser-form uploads) is not supported locally',
          );
        }
        if (uploadId !== undefined) {
          // One completion at a time per upload: s3rver removes the upload's folder while a
          // second completion opens its parts, and that crashes it. The others get S3's 404.
          if (completing.has(upload)) {
            return sendError(req, res, NO_SUCH_UPLOAD.status, NO_SUCH_UPLOAD.code, NO_SUCH_UPLOAD.message);
          }
          completing.add(upload);
          res.once('close', () => completing.delete(upload));
          const checked = await checkedCompletion(bucket, uploadId, body);
          if (!Buffer.isBuffer(checked))
            return sendError(req, res, checked.status, checked.code, checked.message);
          // The client's body was checked (its digest too); s3rver reads the one written here.
          body = checked;
          headers['content-length'] = body.length;
          for (const name of Object.keys(headers)) {
            if (name === 'content-md5' || name.startsWith('x-amz-checksum-')) delete headers[name];
          }
        }
      }

      // One HEAD to s3rver at most per request, shared by the conditional and Range checks.
      let head: ReturnType<typeof objectHead> | undefined;
      const currentObject = () => {
        head ??= objectHead(rawUrl);
        return head;
      };

      // Conditional reads, answered here as S3 does (s3rver's 304 carries no validators).
      if (objectRead) {
        if (CONDITIONAL_HEADERS.some((name) => req.headers[name] !== undefined)) {
          const current = await currentObject();
          const outcome = current ? evaluatePreconditions(req.headers, current) : 200;
          if (outcome === 412) {
            return sendError(
              req,
              res,
              412,
              'PreconditionFailed',
              'At least one of the pre-conditions you specified did not hold',
            );
          }
          if (outcome === 304 && current) {
            req.resume();
            res.writeHead(304, {
              etag: current.etag,
              'last-modified': new Date(current.lastModified).toUTCString(),
            });
            res.end();
            return;
          }
        }
        for (const name of CONDITIONAL_HEADERS) delete headers[name];
      }

      let plan: RangePlan = { kind: 'whole' };
      const range = req.headers.range;
      if (range !== undefined && objectRead) {
        const current = await currentObject();
        if (current)
          plan = planRange(
            range,
            current.size,
            ifRangeHolds(req.headers['if-range'] as string | undefined, current.etag),
          );
        if (plan.kind === 'unsatisfiable') {
          return sendError(req, res, 416, 'InvalidRange', 'The requested range is not satisfiable', {
            'content-range': `bytes */${plan.size}`,
          });
        }
      }
      delete headers['if-range'];
      // s3rver reads `bytes=0-0` as `0-`: ask it for two bytes (or the whole one-byte object).
      const firstByteOnly = plan.kind === 'part' && plan.end === 0;
      if (plan.kind !== 'part' || (firstByteOnly && plan.size === 1)) delete headers.range;
      else headers.range = `bytes=${plan.start}-${firstByteOnly ? 1 : plan.end}`;

      const proxied = upstream(method, rawUrl, headers);
      const answer = new Promise<IncomingMessage>((resolve, reject) =>
        proxied.on('response', resolve).on('error', reject),
      );
      proxied.end(body);
      const upstreamRes = await answer;
      const resHeaders = forwardHeaders(upstreamRes.headers);
      const ok = upstreamRes.statusCode === 206 || upstreamRes.statusCode === 200;
      if (firstByteOnly && ok && plan.kind === 'part') {
        resHeaders['content-range'] = `bytes 0-0/${plan.size}`;
        resHeaders['content-length'] = 1;
        res.writeHead(206, resHeaders);
        // One byte out; the rest of s3rver's answer is not read, so nothing waits on it.
        if (method === 'HEAD') upstreamRes.resume();
        res.end(method === 'HEAD' ? undefined : await firstByte(upstreamRes));
        return;
      }
      // CompleteMultipartUpload's answer names the object's URL: s3rver gives the host it was
      // asked for (its own, below); S3 gives the host the client asked.
      const completed =
        method === 'POST' &&
        upstreamRes.statusCode === 200 &&
        (queryPairs(rawUrl) ?? []).some(([name]) => name === 'uploadId');
      if (completed && req.headers.host) {
        const xml = (await readWholeBody(upstreamRes))
          .toString('utf8')
          .replaceAll(`http://${innerHost}/`, `http://${req.headers.host}/`);
        res.writeHead(200, { ...resHeaders, 'content-length': Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, resHeaders);
      if (objectRead) {
        await pipeline(upstreamRes, res);
        return;
      }
      // The rest run one at a time: s3rver's answer is taken whole, so a client slow to read
      // it (a long listing) holds no other request up.
      res.end(await readWholeBody(upstreamRes, bodyLimit));
    };
    // Object reads go on beside writes; a listing waits for them, as s3rver lists a folder
    // and then stats each entry, which a delete running meanwhile removes (a 500).
    return objectRead ? forward() : oneAtATime(forward);
  }

  const front = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else if (error instanceof BodyTooLarge) {
        // The rest is not read: the connection closes once the answer is out.
        res.setHeader('connection', 'close');
        sendError(req, res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
      } else sendError(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    });
  });
  answerClientErrors(front, clientErrorXml);
  const host = options.host ?? '127.0.0.1';
  const closeInner = async () => {
    agent.destroy();
    const closed = s3rver.close();
    s3rver.httpServer?.closeAllConnections();
    await closed;
    socket.remove();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject).listen(options.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    await closeInner();
    throw err;
  }
  const { port } = front.address() as AddressInfo;

  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      await closeServer(front);
      await closeInner();
    },
  };
}
