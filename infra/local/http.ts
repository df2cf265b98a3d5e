import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_HEADERS, problem } from '../../api/core/problem.ts';

/** Headers a proxy must not forward (RFC 9110 §7.6.1), plus `expect`, which it answers itself. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** Listens on 127.0.0.1; a busy port rejects (with `code` and `port`) instead of crashing the process. */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes a server and every connection it holds, idle or not. */
export function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeAllConnections();
  return closed;
}

/**
 * A request's whole body, or undefined once it is (or says it will be) over `limit` bytes.
 * With `keep` false, the body is read to its end as it arrives and none of it is held: the
 * answer is then empty.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  keep = true,
): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length']) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    if (keep) chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The query of a raw request URL (after its first `?`) as decoded name/value pairs, in
 * order; undefined when a percent-escape is malformed. A `+` is a plus, as S3 reads it,
 * unless `plus` is `'space'`, as API Gateway reads it (a form-encoded space).
 */
export function queryPairs(rawUrl: string, plus: 'plus' | 'space' = 'plus'): [string, string][] | undefined {
  const at = rawUrl.indexOf('?');
  if (at < 0) return [];
  const decode =
    plus === 'space' ? (text: string) => decodeURIComponent(text.replaceAll('+', ' ')) : decodeURIComponent;
  try {
    return rawUrl
      .slice(at + 1)
      .split('&')
      .filter((part) => part !== '')
      .map((part) => {
        const eq = part.indexOf('=');
        return eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))];
      });
  } catch {
    return undefined;
  }
}

/** An answer to a request Node's HTTP parser refused (`Content-Length` is added). */
export interface ClientErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * A request Node cannot parse (bad framing, an invalid header, headers over 16 KB, too slow)
 * never reaches a handler; Node answers it with a bare status line. This answers it with
 * `render`'s body instead (given Node's error code, e.g. `HPE_HEADER_OVERFLOW`), then closes
 * the connection, as Node does. Where the connection still owes another request its answer
 * (a download under way, a pipelined request read whole and waiting), it is closed without
 * a word: the error would land inside that answer, or be taken for it. A CONNECT, which Node
 * also keeps from the handlers, gets `render(CONNECT)`.
 */
export function answerClientErrors(server: Server, render: (code: string) => ClientErrorAnswer): void {
  // Every header reaches the handlers: Node drops those past its 2,000th without a word,
  // which would hide a second Authorization. The 16 KB limit on the header section bounds them.
  server.maxHeadersCount = 0;
  // The responses under way on each connection (pipelined requests queue several).
  const responses = new WeakMap<Duplex, Set<ServerResponse>>();
  server.prependListener('request', (req, res) => {
    const live = responses.get(req.socket) ?? new Set();
    responses.set(req.socket, live.add(res));
    res.on('close', () => live.delete(res));
  });
  // An answer begun and not yet handed over whole, or a request read whole and waiting for
  // its answer. The request the parser broke off is not complete, and gets the error.
  const answerOwed = (socket: Duplex) =>
    [...(responses.get(socket) ?? [])].some(
      (res) => !res.writableEnded && (res.headersSent || res.req.complete),
    );
  const answer = (socket: Duplex, code: string) => {
    const { status, headers, body } = render(code);
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n${head.join('')}` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      // The server allows half-open sockets: close it for good once the answer is out.
      () => socket.destroy(),
    );
  };
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable || answerOwed(socket)) {
      socket.destroy();
      return;
    }
    answer(socket, error.code ?? '');
  });
  // A CONNECT (a tunnel request) never reaches a handler either: Node closes it unanswered.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    // Pipelined behind a request still owed its answer: closed without a word, as above.
    if (answerOwed(socket)) socket.destroy();
    else answer(socket, CONNECT);
  });
}

/** The code `render` gets for a CONNECT request, which these servers (no proxies) refuse. */
export const CONNECT = 'CONNECT';

/** An RFC 9457 problem body of the local stand-ins, as text. */
export function problemBody(status: number, slug: string, detail: string): string {
  return JSON.stringify(problem(status, slug, detail));
}

/** What Node's HTTP parser reports, as the answer Node itself would send (but in problem+json). */
const PARSER_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'header-too-large', 'the request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'content-too-large', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request-timeout', 'the request took too long to arrive'],
  [CONNECT]: [405, 'method-not-allowed', 'CONNECT is not served: this server is not a proxy'],
};

/**
 * A request Node's parser refused, as a problem+json answer for `answerClientErrors`; a 405
 * names `allow`, the methods the server serves (RFC 9110 §15.5.6).
 */
export function parserProblem(code: string, allow: string): ClientErrorAnswer {
  const [status, slug, detail] = PARSER_ERRORS[code] ?? [
    400,
    'bad-request',
    'the request is not valid HTTP/1.1',
  ];
  return {
    status,
    headers: { ...PROBLEM_HEADERS, ...(status === 405 ? { Allow: allow } : {}) },
    body: problemBody(status, slug, detail),
  };
}

/** RFC 9112 §3.2's `Host`: `uri-host [ ":" port ]`, an IP literal or a reg-name, not empty. */
export const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d*)?$/;

/** What is wrong with the request's Host header (none on HTTP/1.1, two, or not a host), if anything. */
export function hostProblem(req: IncomingMessage): string | undefined {
  const hosts = req.rawHeaders.filter(
    (_, i) => i % 2 === 1 && req.rawHeaders[i - 1]?.toLowerCase() === 'host',
  );
  if (hosts.length > 1) return 'a request must carry one Host header';
  const [host] = hosts;
  if (host === undefined)
    return req.httpVersionMinor >= 1 ? 'an HTTP/1.1 request needs a Host header' : undefined;
  return HOST.test(host) ? undefined : 'the Host header is not a host';
}

/** An RFC 9457 problem+json answer, framed by its length. */
export function sendProblem(
  res: ServerResponse,
  status: number,
  slug: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const body = problemBody(status, slug, detail);
  res.writeHead(status, { ...headers, ...PROBLEM_HEADERS, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers without reading the rest of the request, and closes the connection after: Node
 * would otherwise read and discard the whole body to keep the connection alive.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
  res.shouldKeepAlive = false;
  answer();
  res.once('finish', () => req.destroy());
}

/**
 * An `Expect` other than 100-continue, which Node would refuse with a bare 417: a 417 in
 * problem+json (a 400 for a bad Host, checked first), and the connection closed.
 */
export function answerExpectations(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const badHost = hostProblem(req);
    refuse(req, res, () =>
      badHost
        ? sendProblem(res, 400, 'bad-request', badHost)
        : sendProblem(res, 417, 'expectation-failed', 'only "Expect: 100-continue" is supported'),
    );
  });
}
