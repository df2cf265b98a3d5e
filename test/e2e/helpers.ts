// Shared helpers for the end-to-end tests: real HTTP against the local stack (`signet dev`).
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { decodeExtended, parse } from 'content-disposition';
import { expect } from 'vitest';
import type { Endpoints } from '../../infra/local/state.ts';

export type Via = 's3' | 'cdn';
export const VIAS: readonly Via[] = ['s3', 'cdn'];

/** A real S3 client on the stack's SigV4-checked S3 stand-in. */
export function s3Client(endpoints: Endpoints): S3Client {
  return new S3Client({
    region: endpoints.region,
    endpoint: endpoints.s3,
    forcePathStyle: true,
    credentials: { accessKeyId: endpoints.accessKeyId, secretAccessKey: endpoints.secretAccessKey },
  });
}

/** Uploads one object (optionally with `x-amz-meta-filename`). */
export async function putObject(
  s3: S3Client,
  endpoints: Endpoints,
  key: string,
  body: string | Buffer,
  { filename, contentType }: { filename?: string | undefined; contentType?: string } = {},
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: endpoints.bucket,
      Key: key,
      Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      ...(filename === undefined ? {} : { Metadata: { filename } }),
      ...(contentType === undefined ? {} : { ContentType: contentType }),
    }),
  );
}

/** `/d/{key}` with each segment percent-encoded, as a browser link would carry it. */
export function downloadPath(key: string, query: Record<string, string> = {}): string {
  const path = `/d/${key.split('/').map(encodeURIComponent).join('/')}`;
  const search = Object.entries(query)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  return search ? `${path}?${search}` : path;
}

/** A request to the edge that does not follow redirects. */
export function ask(
  endpoints: Endpoints,
  path: string,
  init: { token?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  return fetch(`${endpoints.edge}${path}`, { method: init.method ?? 'GET', headers, redirect: 'manual' });
}

/**
 * Asks for a download link and checks the 302 the way a user would meet it: the Location's
 * origin is exactly the configured bucket endpoint or edge, and the redirect is not cached
 * nor leaks a referrer.
 */
export async function redirectTo(
  endpoints: Endpoints,
  path: string,
  token: string,
  expectedVia: Via,
): Promise<string> {
  const res = await ask(endpoints, path, { token });
  const body = await res.text();
  expect(res.status, body).toBe(302);
  expect(res.headers.get('cache-control')).toBe('private, no-store');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  const location = res.headers.get('location');
  expect(location).toBeTruthy();
  expect(new URL(location as string).origin).toBe(expectedVia === 's3' ? endpoints.s3 : endpoints.edge);
  return location as string;
}

export interface Disposition {
  readonly type: string;
  /** `filename="..."`: the ASCII fallback. */
  readonly fallback: string | undefined;
  /** `filename*=` as sent (`UTF-8''...`). */
  readonly extended: string | undefined;
  /** `filename*` decoded (RFC 8187). */
  readonly name: string | undefined;
}

/**
 * Parses a Content-Disposition header. `parse` with extended decoding on (the default)
 * overwrites `parameters.filename` with the decoded `filename*`, so the fallback is read
 * with `extended: false` and `filename*` decoded with `decodeExtended`.
 */
export function parseDisposition(header: string | null): Disposition {
  expect(header).toBeTruthy();
  const value = header as string;
  expect(value).not.toMatch(/[\r\n]/);
  // Both forms, in this order, with a printable-ASCII fallback that holds no quote.
  expect(value).toMatch(
    /^(attachment|inline); filename="[\x20\x21\x23-\x7e]*"; filename\*=UTF-8''[\x21-\x7e]+$/,
  );
  const raw = parse(value, { extended: false });
  const extended = raw.parameters['filename*'];
  const decoded = parse(value).parameters.filename;
  expect(decoded).toBe(extended === undefined ? undefined : decodeExtended(extended));
  return { type: raw.type, fallback: raw.parameters.filename, extended, name: decoded };
}

/** Follows a signed URL (never redirecting) and returns status, headers and bytes. */
export async function follow(
  url: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Header names and values exactly as received, in order. */
  readonly rawHeaders: string[];
  readonly body: string;
}

/**
 * A request with the path sent byte for byte as given: fetch (the WHATWG URL parser)
 * would resolve `..` and `%2e%2e` segments before they ever reached the stack.
 */
export function rawRequest(
  origin: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  method = 'GET',
): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes `raw` bytes on a connection of its own to 127.0.0.1:`port`, keeps its own side
 * open, and reads until the server ends the connection: what it answers to a request an
 * HTTP client would never send.
 */
export function exchangeRaw(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => {
      resolve(text);
      socket.destroy();
    });
    socket.on('error', reject);
    socket.write(raw);
  });
}

/** Asserts an RFC 9457 problem+json answer with the given status, and returns it. */
export function expectProblem(
  status: number,
  contentType: string | null | undefined,
  body: string,
): { type: string; title: string; status: number; detail: string } {
  expect(contentType).toMatch(/^application\/problem\+json\b/);
  const problem = JSON.parse(body) as Record<string, unknown>;
  expect(problem).toEqual({
    type: expect.stringMatching(/^https:\/\/|^about:blank$/),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
  // Never a stack trace or an internal error message.
  expect(body).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts:\d+|stack/i);
  return problem as { type: string; title: string; status: number; detail: string };
}

/** Asserts a problem+json `Response` with the given status. */
export async function expectProblemResponse(res: Response, status: number) {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return expectProblem(status, res.headers.get('content-type'), body);
}

/** Replaces the character at `index` of `text` with a different one of the same URL-safe kind. */
export function flipChar(text: string, index: number): string {
  const c = text[index];
  const replacement = c === 'A' ? 'B' : /[0-9]/.test(c ?? '') ? (c === '1' ? '2' : '1') : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

/** Replaces the value of query parameter `name` in a raw URL, leaving every other byte alone. */
export function replaceParam(url: string, name: string, change: (value: string) => string): string {
  const pattern = new RegExp(`([?&]${name.replace(/[-]/g, '\\-')}=)([^&]*)`);
  const match = pattern.exec(url);
  expect(match, `${name} in ${url}`).not.toBeNull();
  return url.replace(pattern, (_, prefix: string, value: string) => prefix + change(value));
}

/** The raw value of query parameter `name` in a URL. */
export function rawParam(url: string, name: string): string | undefined {
  return new RegExp(`[?&]${name}=([^&]*)`).exec(url)?.[1];
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Waits, if needed, so that the next requests fall inside one signing window of
 * `stabilitySeconds` with at least `marginMs` to spare.
 */
export async function awaitFreshWindow(stabilitySeconds: number, marginMs: number): Promise<void> {
  const windowMs = stabilitySeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await sleep(left + 50);
}
