import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
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
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HOP_BY_HOP } from './http.ts';
import { verifySigV4 } from './sigv4.ts';

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
  run(): Promise<AddressInfo>;
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

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  req.resume();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': req.method === 'HEAD' ? 0 : Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function forwardHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Decodes an `aws-chunked` body (`hex-size[;chunk-signature=..]\r\n data \r\n ... 0\r\n trailers`),
 * which s3rver would otherwise store verbatim; undefined when it is malformed.
 */
export function decodeAwsChunked(body: Buffer): Buffer | undefined {
  const chunks: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    const size =
      eol < 0
        ? Number.NaN
        : Number.parseInt(body.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0 || eol + 2 + size > body.length) return undefined;
    if (size === 0) return Buffer.concat(chunks);
    chunks.push(body.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

/** The Range to ask s3rver for (undefined: none, serve the whole object). */
interface RangePlan {
  upstream: string | undefined;
  /** `bytes=0-0`, which s3rver cannot express: ask for `bytes=0-` and keep the first byte. */
  firstByteOnly?: boolean;
}

/**
 * Rewrites a `Range` header into one s3rver answers right. s3rver reads `bytes=-N` as `0-N`
 * and `bytes=0-0` as `0-`, and mangles multi-range and malformed headers, which S3 ignores.
 */
async function planRange(range: string, objectSize: () => Promise<number | undefined>): Promise<RangePlan> {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { upstream: undefined };
  if (m[1] === '') {
    const size = await objectSize();
    if (size === undefined) return { upstream: undefined };
    const suffix = Number(m[2]);
    // A zero suffix is unsatisfiable; `bytes=SIZE-` makes s3rver answer 416 InvalidRange.
    return { upstream: `bytes=${suffix === 0 ? size : Math.max(0, size - suffix)}-` };
  }
  const start = Number(m[1]);
  if (m[2] === '') return { upstream: `bytes=${start}-` };
  const end = Number(m[2]);
  if (end < start) return { upstream: undefined };
  return end === 0 ? { upstream: 'bytes=0-', firstByteOnly: true } : { upstream: `bytes=${start}-${end}` };
}

/** Passes the first `limit` bytes through and drops the rest. */
function truncate(limit: number): Transform {
  let left = limit;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const part = chunk.subarray(0, Math.max(0, left));
      left -= part.length;
      done(null, part.length > 0 ? part : undefined);
    },
  });
}

/**
 * Starts an S3-compatible server (s3rver) behind a front that checks AWS SigV4 as S3 does:
 * unsigned, tampered, expired or wrongly scoped requests get a 403 S3 XML error.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const { credentials, region } = options;
  await mkdir(options.directory, { recursive: true });
  DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const inner = await s3rver.run();
  const innerHost = `127.0.0.1:${inner.port}`;
  const agent = new Agent({ keepAlive: true });

  const upstream = (method: string, path: string, headers: OutgoingHttpHeaders) =>
    httpRequest({
      host: '127.0.0.1',
      port: inner.port,
      method,
      path,
      headers: { ...headers, host: innerHost },
      agent,
    });

  const objectSize = (path: string) => async (): Promise<number | undefined> => {
    const head = upstream('HEAD', path.split('?')[0] ?? path, {});
    head.end();
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      head.on('response', resolve).on('error', reject),
    );
    res.resume();
    const length = Number(res.headers['content-length']);
    return res.statusCode === 200 && Number.isSafeInteger(length) ? length : undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const verdict = verifySigV4(
      { method, rawUrl, headers: req.headers },
      {
        secretFor: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
        region,
        service: 's3',
        now: new Date(),
      },
    );
    if (!verdict.ok) return sendError(req, res, 403, verdict.code, verdict.message);

    // s3rver stores keys as files: a `.` or `..` segment would escape its directory.
    let path: string;
    try {
      path = decodeURIComponent(rawUrl.split('?')[0] ?? '');
    } catch {
      return sendError(req, res, 400, 'InvalidURI', "Couldn't parse the specified URI.");
    }
    if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
      return sendError(
        req,
        res,
        400,
        'InvalidArgument',
        'Keys with . or .. segments are not supported locally',
      );
    }
    // Nor can a file name exceed 255 bytes or hold a NUL: such an object cannot exist here,
    // so reads answer 404 as S3 would, and writes are refused plainly instead of failing
    // inside s3rver.
    if (path.includes('\0') || path.split('/').some((segment) => Buffer.byteLength(segment, 'utf8') > 255)) {
      if (method === 'GET' || method === 'HEAD') {
        return sendError(req, res, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      return sendError(
        req,
        res,
        400,
        'KeyTooLongError',
        'Locally, each key segment must be at most 255 bytes and hold no NUL',
      );
    }

    const headers = forwardHeaders(req.headers);
    let body: Buffer | undefined;
    const payloadHash = String(req.headers['x-amz-content-sha256']);
    if (req.headers.authorization !== undefined && /^[0-9a-f]{64}$/.test(payloadHash)) {
      body = await readBody(req);
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
    if (payloadHash.startsWith('STREAMING-') || encodings.includes('aws-chunked')) {
      body = decodeAwsChunked(body ?? (await readBody(req)));
      const declared = req.headers['x-amz-decoded-content-length'];
      if (!body || (declared !== undefined && Number(declared) !== body.length)) {
        return sendError(req, res, 400, 'IncompleteBody', 'The aws-chunked request body is malformed');
      }
      const rest = encodings.filter((e) => e !== 'aws-chunked' && e !== '');
      if (rest.length > 0) headers['content-encoding'] = rest.join(', ');
      else delete headers['content-encoding'];
      for (const name of ['x-amz-decoded-content-length', 'x-amz-trailer']) delete headers[name];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    }
    if (body !== undefined) headers['content-length'] = body.length;

    let firstByteOnly = false;
    const range = req.headers.range;
    if (range !== undefined && (method === 'GET' || method === 'HEAD')) {
      const plan = await planRange(range, objectSize(rawUrl));
      if (plan.upstream === undefined) delete headers.range;
      else headers.range = plan.upstream;
      firstByteOnly = plan.firstByteOnly === true;
    }

    const proxied = upstream(method, rawUrl, headers);
    const answer = new Promise<IncomingMessage>((resolve, reject) =>
      proxied.on('response', resolve).on('error', reject),
    );
    if (body !== undefined) proxied.end(body);
    else req.pipe(proxied);
    const upstreamRes = await answer;
    const resHeaders = forwardHeaders(upstreamRes.headers);
    let tail: Transform | undefined;
    if (firstByteOnly && upstreamRes.statusCode === 206) {
      const size = /\/(\d+)$/.exec(String(upstreamRes.headers['content-range']))?.[1];
      resHeaders['content-range'] = `bytes 0-0/${size}`;
      resHeaders['content-length'] = 1;
      tail = truncate(1);
    }
    res.writeHead(upstreamRes.statusCode ?? 502, resHeaders);
    if (tail) await pipeline(upstreamRes, tail, res);
    else await pipeline(upstreamRes, res);
  }

  const front = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        sendError(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  const closeInner = async () => {
    agent.destroy();
    const closed = s3rver.close();
    s3rver.httpServer?.closeAllConnections();
    await closed;
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
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      front.closeAllConnections();
      await closed;
      await closeInner();
    },
  };
}
