import type { KeyObject } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, ChecksumConstructor, HashConstructor } from '@smithy/types';
import { API_PREFIXES, FILES_PREFIX } from '../../edge/paths.ts';
import { gatewayResponse } from '../gateway-responses.ts';
import { type LocalRestApi, MAX_API_BODY_BYTES } from './api-gateway.ts';
import { verifyCloudFrontUrl } from './cloudfront-url.ts';
import {
  answerClientErrors,
  answerExpectations,
  type ClientErrorAnswer,
  HOP_BY_HOP,
  HOST,
  hostProblem,
  listen,
  parserProblem,
  sendProblem as problem,
  readBody,
  refuse,
} from './http.ts';
import { canonicalUri } from './sigv4.ts';

type EdgeFunction = (event: unknown) => unknown;

export interface EdgeOptions {
  /** 0 for a random port. */
  readonly port: number;
  /** The REST API; undefined until the handlers are loaded (answered 503 until then). */
  readonly api: () => LocalRestApi | undefined;
  /** Key-Pair-Id → public key of every key in the key group; read on each request (rotation). */
  readonly trustedKeys: () => ReadonlyMap<string, KeyObject> | Promise<ReadonlyMap<string, KeyObject>>;
  readonly viewerRequest: EdgeFunction;
  readonly viewerResponse: EdgeFunction;
  /** The private bucket behind `/files/*`, reached with SigV4 like Origin Access Control. */
  readonly origin: {
    readonly endpoint: URL;
    readonly bucket: string;
    readonly region: string;
    readonly credentials: AwsCredentialIdentity;
    readonly sha256: ChecksumConstructor | HashConstructor;
  };
  /** Called once the port is known, before the first request: the public origin, e.g. http://127.0.0.1:8080. */
  readonly onListening?: (origin: string) => void;
}

/** Viewer headers the S3 origin receives (like an origin request policy). */
const ORIGIN_HEADERS = [
  'range',
  'if-range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
];

/** The path patterns the edge routes, as its 404 names them. */
const ROUTED = `${API_PREFIXES.map((prefix) => `${prefix}*`).join(', ')} and ${FILES_PREFIX}*`;

/** Every method some behaviour of the distribution allows: what a 405 at the edge names. */
const EDGE_METHODS = 'GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE';

/** A request Node's parser refused, answered in problem+json like every other error. */
export function clientErrorProblem(code: string): ClientErrorAnswer {
  return parserProblem(code, EDGE_METHODS);
}

/** An absolute-form request target (RFC 9112 §3.2.2): scheme, authority, then the rest. */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)([^#]*)$/i;

/**
 * The request target in origin form, and the host the viewer asked for: that of an
 * absolute-form target, which a server must accept and which wins over `Host` (RFC 9112
 * §3.2.2), else the `Host` header (checked beforehand). A string says what is wrong.
 */
function requestTarget(req: IncomingMessage): { rawUrl: string; host: string | undefined } | string {
  const rawUrl = req.url ?? '/';
  // A fragment never travels in a request (RFC 9112 §3.2): one that does is not a path part.
  if (rawUrl.includes('#')) return 'the request target holds a fragment (#), which a request never carries';
  const absolute = ABSOLUTE_FORM.exec(rawUrl);
  if (!absolute) return { rawUrl, host: req.headers.host };
  const [, authority = '', rest = ''] = absolute;
  if (!HOST.test(authority)) return 'the request target names no host';
  return { rawUrl: rest.startsWith('/') ? rest : `/${rest}`, host: authority };
}

/** Whether the request's framing announces a body (a `Content-Length: 0` does not). */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export type FunctionFields = Record<string, { value: string; multiValue?: { value: string }[] }>;

/** Plain header values from a function's fields (the first value of each). */
function headerValues(fields: FunctionFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, field] of Object.entries(fields)) {
    if (field && typeof field.value === 'string') out[name] = field.value;
  }
  return out;
}

/** A body a viewer-request function answered with: a string, or `{data, encoding}`. */
function functionBody(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body && typeof body === 'object' && typeof (body as { data?: unknown }).data === 'string') {
    const { data, encoding } = body as { data: string; encoding?: string };
    return Buffer.from(data, encoding === 'base64' ? 'base64' : 'utf8');
  }
  return Buffer.alloc(0);
}

/**
 * Runs an edge function (awaiting an async one, as cloudfront-js-2.0 allows). A function
 * that throws or returns nothing usable is what CloudFront answers 503 for; the viewer gets
 * that here too, and undefined comes back.
 */
async function runFunction(
  res: ServerResponse,
  fn: EdgeFunction,
  event: unknown,
): Promise<object | undefined> {
  let result: unknown;
  try {
    result = await fn(event);
  } catch {
    result = undefined;
  }
  if (result && typeof result === 'object') return result;
  problem(res, 503, 'function-failed', 'the edge function failed', {
    'Retry-After': '1',
  });
  return undefined;
}

/** Names and values as a CloudFront Function sees them: the first value, and `multiValue` when repeated. */
export function fields(entries: Iterable<[string, string]>): FunctionFields {
  // No prototype: a header or parameter named `constructor` is just a field.
  const out: FunctionFields = Object.create(null);
  for (const [name, value] of entries) {
    const existing = out[name];
    if (!existing) out[name] = { value };
    else existing.multiValue = [...(existing.multiValue ?? [{ value: existing.value }]), { value }];
  }
  return out;
}

/** Raw `name=value` pairs of a query, values still percent-encoded (as CloudFront Functions see them). */
function rawQueryPairs(query: string): [string, string][] {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    });
}

/**
 * The CloudFront stand-in: routes like the distribution (`/d/*`, `/p/*`, `/links*` to the
 * REST API; `/files/*` to the private bucket), checks CloudFront signed URLs against the
 * key group before any function runs, and runs the very same built CloudFront Functions
 * on viewer-request and viewer-response.
 */
export async function startEdge(options: EdgeOptions): Promise<{ url: string; server: Server }> {
  const signer = new SignatureV4({
    service: 's3',
    region: options.origin.region,
    credentials: options.origin.credentials,
    sha256: options.origin.sha256,
    uriEscapePath: false,
  });
  let publicOrigin = '';

  async function api(req: IncomingMessage, res: ServerResponse, rawUrl: string): Promise<void> {
    const restApi = options.api();
    if (!restApi) {
      problem(res, 503, 'unavailable', 'the API is starting', { 'Retry-After': '1' });
      return;
    }
    const body = await readBody(req, MAX_API_BODY_BYTES);
    if (body === undefined) {
      const { statusCode, headers, body: problemBody } = gatewayResponse('REQUEST_TOO_LARGE');
      const text = JSON.stringify(problemBody);
      refuse(req, res, () =>
        res.writeHead(statusCode, { ...headers, 'Content-Length': Buffer.byteLength(text) }).end(text),
      );
      return;
    }
    const answer = await restApi.handle({
      method: req.method ?? 'GET',
      rawUrl,
      // Every value of a repeated header: the gateway keeps the last in `headers`, all in
      // `multiValueHeaders` (Node's own `headers` keeps the first Authorization only).
      // Cookie lines are one list, as one Cookie header (Node joins them with "; ").
      headers: { ...req.headersDistinct, ...(req.headers.cookie ? { cookie: [req.headers.cookie] } : {}) },
      body: body.toString('utf8'),
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    });
    res.writeHead(answer.statusCode, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
    res.end(req.method === 'HEAD' ? '' : answer.body);
  }

  async function files(
    req: IncomingMessage,
    res: ServerResponse,
    rawUrl: string,
    host: string | undefined,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // CloudFront answers 403 for a method the cache behaviour does not allow (GET, HEAD here).
      problem(res, 403, 'forbidden', 'only GET and HEAD are allowed on /files/');
      return;
    }
    const verdict = verifyCloudFrontUrl({
      // The URL as the viewer asked for it: one signed for another host does not serve here
      // (an HTTP/1.0 request may name none: the edge's own).
      origin: host === undefined ? publicOrigin : `http://${host.toLowerCase()}`,
      rawPath: rawUrl,
      keys: await options.trustedKeys(),
      now: new Date(),
      clientIp: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
    });
    if (!verdict.ok) {
      problem(res, 403, 'forbidden', `the signed URL was rejected (${verdict.code})`);
      return;
    }

    const headerEntries = Object.entries(req.headers).flatMap(([name, value]) =>
      name === 'cookie' || value === undefined
        ? []
        : (Array.isArray(value) ? value : [value]).map((v) => [name, v] as [string, string]),
    );
    const viewerRequest = {
      method: req.method,
      uri: verdict.path,
      querystring: fields(rawQueryPairs(verdict.query)),
      headers: fields(headerEntries),
      cookies: {},
    };
    const requestEvent = {
      version: '1.0',
      context: {
        distributionDomainName: new URL(publicOrigin).host,
        eventType: 'viewer-request',
        requestId: '',
      },
      viewer: { ip: req.socket.remoteAddress ?? '127.0.0.1' },
      request: viewerRequest,
    };
    const afterRequest = (await runFunction(res, options.viewerRequest, requestEvent)) as
      | (typeof viewerRequest & { statusCode?: number; headers?: FunctionFields; body?: unknown })
      | undefined;
    if (!afterRequest) return;
    if (typeof afterRequest.statusCode === 'number') {
      // The function answered the viewer itself: its status, headers and body, no origin.
      const body = functionBody(afterRequest.body);
      res.writeHead(afterRequest.statusCode, {
        ...headerValues(afterRequest.headers ?? {}),
        'content-length': body.length,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }

    // Origin request: the bucket, the key from the rewritten URI, SigV4 like OAC, no query.
    const { endpoint, bucket } = options.origin;
    const originHeaders: Record<string, string> = { host: endpoint.host };
    for (const name of ORIGIN_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') originHeaders[name] = value;
    }
    const signed = await signer.sign(
      new HttpRequest({
        method: req.method,
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: Number(endpoint.port),
        // Signed and sent in the form S3 signs it (as CloudFront's own request to S3 is).
        path: canonicalUri(`/${bucket}${afterRequest.uri}`),
        headers: originHeaders,
      }),
    );
    const originResponse = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpRequest(
        {
          host: endpoint.hostname,
          port: endpoint.port,
          method: signed.method,
          path: signed.path,
          headers: signed.headers,
        },
        resolve,
      );
      out.on('error', reject);
      out.end();
    });
    const status = originResponse.statusCode ?? 502;
    if (status >= 400) {
      // CloudFront Functions do not run on errors; the viewer gets a problem+json answer.
      originResponse.resume();
      if (status === 403 || status === 404) {
        // S3 says 403 for a missing key without s3:ListBucket; viewers see 404 either way.
        problem(res, 404, 'not-found', 'no such object');
      } else if (status === 412 || status === 416) {
        const detail = status === 412 ? 'a precondition does not hold' : 'the range is not satisfiable';
        // A 416 says how large the object is (RFC 9110 §15.5.17), as the origin said.
        const range = originResponse.headers['content-range'];
        problem(res, status, status === 412 ? 'precondition-failed' : 'range-not-satisfiable', detail, {
          ...(status === 416 && range ? { 'Content-Range': range } : {}),
        });
      } else if (status < 500) {
        // The origin refused the request (S3 answers 400 for a key it cannot hold, say):
        // CloudFront passes a 4xx on; only the origin failing is a 502.
        problem(res, status, 'origin-refused', 'the origin refused the request');
      } else {
        problem(res, 502, 'bad-gateway', 'the origin failed to answer');
      }
      return;
    }

    const responseHeaders: FunctionFields = Object.create(null);
    for (const [name, value] of Object.entries(originResponse.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-amz-')) continue;
      responseHeaders[name] = { value: Array.isArray(value) ? value.join(', ') : value };
    }
    const responseEvent = {
      ...requestEvent,
      context: { ...requestEvent.context, eventType: 'viewer-response' },
      request: afterRequest,
      response: {
        statusCode: status,
        statusDescription: originResponse.statusMessage ?? '',
        headers: responseHeaders,
        cookies: {},
      },
    };
    const afterResponse = (await runFunction(res, options.viewerResponse, responseEvent)) as
      | { headers?: FunctionFields }
      | undefined;
    if (!afterResponse) {
      originResponse.resume();
      return;
    }
    const out = headerValues(afterResponse.headers ?? responseHeaders);
    out['x-cache'] = 'Miss from cloudfront (signet local)';
    res.writeHead(status, out);
    // A viewer that goes away ends the origin fetch too (its socket and the file behind it).
    await pipeline(originResponse, res);
  }

  // Node answers a request without Host a bare 400 of its own, and takes a bad one or two:
  // the edge answers each 400 itself (RFC 9112 §3.2).
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    const badHost = hostProblem(req);
    if (badHost) {
      refuse(req, res, () => problem(res, 400, 'bad-request', badHost));
      return;
    }
    const target = requestTarget(req);
    if (typeof target === 'string') {
      refuse(req, res, () => problem(res, 400, 'bad-request', target));
      return;
    }
    const { rawUrl, host } = target;
    const path = rawUrl.split('?', 1)[0] ?? '/';
    const route = API_PREFIXES.some((prefix) => path.startsWith(prefix))
      ? api
      : path.startsWith(FILES_PREFIX)
        ? files
        : undefined;
    if (!route) {
      problem(res, 404, 'not-found', `no such path: the edge routes ${ROUTED}`);
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && announcesBody(req)) {
      // CloudFront answers 403 to a GET that carries a body, before any behaviour.
      refuse(req, res, () => problem(res, 403, 'forbidden', 'a GET or HEAD request must not carry a body'));
      return;
    }
    route(req, res, rawUrl, host).catch(() => {
      if (!res.headersSent) problem(res, 502, 'bad-gateway', 'the edge failed to answer');
      else res.destroy();
    });
  });
  answerClientErrors(server, clientErrorProblem);
  answerExpectations(server);
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port);
  publicOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  options.onListening?.(publicOrigin);
  return { url: publicOrigin, server };
}
