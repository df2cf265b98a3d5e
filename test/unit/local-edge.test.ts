import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
  STATUS_CODES,
} from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEdgeFunctions } from '../../edge/build.ts';
import { LocalRestApi } from '../../infra/local/api-gateway.ts';
import { clientErrorProblem, fields, startEdge } from '../../infra/local/edge.ts';
import { loadEdgeFunction } from '../../infra/local/edge-runtime.ts';
import { type KeyEntry, type KeyStatus, trustedKeys } from '../../infra/local/key-group.ts';
import { exchangeRaw } from '../e2e/helpers.ts';
import { Sha256 } from '../sha256.ts';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** An authorizer that lets every request through, to every route. */
const allowAll = async (): Promise<APIGatewayAuthorizerResult> => ({
  principalId: 'alice',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
  },
});

type EdgeFunction = (event: unknown) => unknown;

/** The local edge; by default no key in its key group, the built functions and no origin. */
async function edgeWith(
  api: () => LocalRestApi | undefined,
  overrides: {
    trustedKeys?: ReadonlyMap<string, KeyObject>;
    viewerRequest?: EdgeFunction;
    viewerResponse?: EdgeFunction;
    origin?: URL;
  } = {},
): Promise<{ url: string; server: Server }> {
  const built = await buildEdgeFunctions();
  return startEdge({
    port: 0,
    api,
    trustedKeys: () => overrides.trustedKeys ?? new Map(),
    viewerRequest: overrides.viewerRequest ?? loadEdgeFunction(built.viewerRequest),
    viewerResponse: overrides.viewerResponse ?? loadEdgeFunction(built.viewerResponse),
    origin: {
      endpoint: overrides.origin ?? new URL('http://127.0.0.1:9'),
      bucket: 'signet-test',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      sha256: Sha256,
    },
  });
}

/**
 * Writes `raw` on a connection to an edge of its own (with `api`), keeps its own side open,
 * and reads until the edge ends the connection; also says how many connections the edge
 * still holds then (it must drop them itself, not leave them half open).
 */
async function rawExchange(
  raw: string,
  api: () => LocalRestApi | undefined = () => undefined,
): Promise<{ answer: string; openAfter: number }> {
  const own = await edgeWith(api);
  try {
    const answer = await exchangeRaw(Number(new URL(own.url).port), raw);
    const openAfter = await new Promise<number>((resolve) => own.server.getConnections((_, n) => resolve(n)));
    return { answer, openAfter };
  } finally {
    own.server.closeAllConnections();
    await new Promise((done) => own.server.close(done));
  }
}

/** The parts of a raw HTTP answer. */
function splitAnswer(answer: string): { statusLine: string; head: string; body: string } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { statusLine: head.split('\r\n')[0] ?? '', head, body };
}

describe('the local edge', () => {
  // The shared edge never gets an API: a test that needs one starts its own edge, so no test
  // depends on another's state and the order does not matter.
  let edge: { url: string; server: Server };
  const ownEdges: { url: string; server: Server }[] = [];

  beforeAll(async () => {
    edge = await edgeWith(() => undefined);
  });

  afterAll(async () => {
    for (const own of ownEdges) await new Promise((done) => own.server.close(done));
    await new Promise((done) => edge.server.close(done));
  });

  it('answers 503 with Retry-After while the API is still loading', async () => {
    // Act
    const res = await get(`${edge.url}/d/public/a.txt`);

    // Assess
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 503, title: 'Service Unavailable' });
  });

  it.each([
    ['a header line with no colon', 'GET /d/a.txt HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400],
    ['a malformed request line', 'GET\r\n\r\n', 400],
    ['headers over 16 KB', `GET /d/a.txt HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['an HTTP/1.1 request without Host', 'GET /d/a.txt HTTP/1.1\r\n\r\n', 400],
    ['a request with two Host headers', 'GET /d/a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['an empty Host', 'GET /d/a.txt HTTP/1.1\r\nHost:\r\n\r\n', 400],
    ['a Host that is not a host', 'GET /d/a.txt HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['a Host with a path in it', 'GET /d/a.txt HTTP/1.1\r\nHost: a/b@c\r\n\r\n', 400],
    [
      'two Host headers and an unknown Expect (the Host is checked first)',
      'GET /d/a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\nExpect: foo\r\n\r\n',
      400,
    ],
    ['an Expect other than 100-continue', 'GET /d/a.txt HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n', 417],
    ['a CONNECT (the edge is no proxy)', 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n', 405],
  ])('answers %s (refused before any route) in problem+json, then closes', async (_, raw, status) => {
    // Act
    const { answer, openAfter } = await rawExchange(raw);

    // Assess
    const { statusLine, head, body } = splitAnswer(answer);
    expect(statusLine).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/);
    expect(JSON.parse(body)).toMatchObject({
      status,
      type: expect.stringMatching(/^https:\/\/signet\.dev\/problems\//),
    });
    expect(openAfter).toBe(0);
  });

  it.each([
    ['an HTTP/1.0 request without Host', 'GET /d/a.txt HTTP/1.0\r\n\r\n'],
    ['a Host with an empty port', 'GET /d/a.txt HTTP/1.1\r\nHost: 127.0.0.1:\r\nConnection: close\r\n\r\n'],
  ])('takes %s (valid, RFC 9112 §3.2) to the route', async (_, raw) => {
    // Act
    const { answer } = await rawExchange(raw);

    // Assess: the route's 503 (the API is loading), not a 400
    expect(splitAnswer(answer).statusLine).toMatch(/^HTTP\/1.1 503 /);
  });

  it('answers a request too slow to arrive 408 in problem+json', () => {
    // Act
    const { status, headers, body } = clientErrorProblem('ERR_HTTP_REQUEST_TIMEOUT');

    // Assess
    expect(status).toBe(408);
    expect(headers['Content-Type']).toBe('application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 408, title: 'Request Timeout' });
  });

  it('rejects a /files/ URL with no valid signature with 403 problem+json', async () => {
    // Act
    const res = await get(`${edge.url}/files/a.txt?constructor=1&Expires=1&Signature=x&Key-Pair-Id=K`);

    // Assess
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ status: 403 });
  });

  it('passes a parameter named constructor through to the API', async () => {
    // Prepare
    const seen: (Record<string, string | undefined> | null)[] = [];
    const api = new LocalRestApi({
      region: 'us-east-1',
      authorizer: allowAll,
      routes: [
        {
          methods: ['GET', 'HEAD'],
          resource: '/d/{proxy+}',
          authorize: true,
          handler: async (event) => {
            seen.push(event.queryStringParameters);
            return { statusCode: 204, body: '' };
          },
        },
      ],
    });
    const withApi = await edgeWith(() => api);
    ownEdges.push(withApi);

    // Act
    const res = await get(`${withApi.url}/d/public/a.txt?constructor=1`);

    // Assess
    expect(res.status).toBe(204);
    expect(seen).toEqual([{ constructor: '1' }]);
  });
});

describe("the local edge: routing by path, as the distribution's behaviours", () => {
  const reached: string[] = [];
  const record = async (event: { path: string }) => {
    reached.push(event.path);
    return { statusCode: 204, body: '' };
  };
  const api = new LocalRestApi({
    region: 'us-east-1',
    authorizer: allowAll,
    routes: [
      { methods: ['GET'], resource: '/d/{proxy+}', authorize: true, handler: record },
      { methods: ['GET'], resource: '/p/{id}', authorize: false, handler: record },
      { methods: ['GET'], resource: '/links', authorize: true, handler: record },
      { methods: ['GET'], resource: '/links/{id}', authorize: true, handler: record },
    ],
  });
  let edge: { url: string; server: Server };

  beforeAll(async () => {
    edge = await edgeWith(() => api);
  });

  afterAll(async () => {
    await new Promise((done) => edge.server.close(done));
  });

  it.each(['/d/public/a.txt', '/p/abc123', '/links', '/links?limit=1', '/links/abc123'])(
    '%s reaches the API',
    async (path) => {
      // Act
      const res = await get(`${edge.url}${path}`);

      // Assess
      expect(res.status).toBe(204);
      expect(reached.at(-1)).toBe(path.split('?')[0]);
    },
  );

  it.each(['/d/public/a.txt#frag', '/d/public/a.txt?x=1#frag', 'http://h/d/public/a.txt#f'])(
    '%s: a fragment in the request target is a 400, never part of the key',
    async (target) => {
      // Act
      const answer = await exchangeRaw(
        Number(new URL(edge.url).port),
        `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
      );

      // Assess
      expect(splitAnswer(answer).statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(JSON.parse(splitAnswer(answer).body).detail).toMatch(/fragment/);
    },
  );

  it('an absolute-form target (RFC 9112 §3.2.2) is routed by its path', async () => {
    // Act
    const answer = await exchangeRaw(
      Number(new URL(edge.url).port),
      `GET ${edge.url}/d/public/a.txt?x=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n`,
    );

    // Assess
    expect(splitAnswer(answer).statusLine).toBe('HTTP/1.1 204 No Content');
    expect(reached.at(-1)).toBe('/d/public/a.txt');
  });

  it('/linksX matches /links* as on CloudFront: the gateway answers its 404, not the edge', async () => {
    // Act
    const res = await get(`${edge.url}/linksX`);

    // Assess
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ status: 404, detail: 'no such route' });
  });

  it.each(['/', '/nope', '/d', '/p', '/files'])(
    "%s: the edge's own 404, naming what it routes",
    async (path) => {
      // Act
      const res = await get(`${edge.url}${path}`);

      // Assess
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.body).detail).toBe(
        'no such path: the edge routes /d/*, /p/*, /links* and /files/*',
      );
    },
  );
});

describe('the local edge: request bodies and repeated headers', () => {
  const seen: { headers: unknown; multi: unknown; body: string | null }[] = [];
  const cookies: (string | undefined)[] = [];
  const api = new LocalRestApi({
    region: 'us-east-1',
    authorizer: async (event) => {
      if (event.headers?.authorization !== 'Bearer good') throw new Error('Unauthorized');
      return {
        principalId: 'alice',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
        },
      };
    },
    routes: [
      {
        methods: ['GET', 'HEAD', 'POST'],
        resource: '/links',
        authorize: true,
        handler: async (event) => {
          cookies.push(event.headers.cookie);
          seen.push({
            headers: event.headers.authorization,
            multi: event.multiValueHeaders.authorization,
            body: event.body,
          });
          return { statusCode: 204, body: '' };
        },
      },
    ],
  });
  let edge: { url: string; server: Server };

  beforeAll(async () => {
    edge = await edgeWith(() => api);
  });

  afterAll(async () => {
    await new Promise((done) => edge.server.close(done));
  });

  /** Sends the head of a request and as much of `body` as given, then waits for the answer. */
  function send(
    method: string,
    path: string,
    headers: Record<string, string | string[]>,
    body?: Buffer,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const out = httpRequest(`${edge.url}${path}`, { method, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          out.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      });
      out.on('error', reject);
      out.flushHeaders();
      if (body) out.write(body);
    });
  }

  it.each([
    ['a Content-Length body', { 'content-length': '5' }, Buffer.from('hello')],
    ['a chunked body', { 'transfer-encoding': 'chunked' }, Buffer.from('hello')],
  ])('answers a GET with %s 403, as CloudFront does, without calling the API', async (_, headers, body) => {
    // Prepare
    seen.length = 0;

    // Act
    const res = await send('GET', '/links', { authorization: 'Bearer good', ...headers }, body);

    // Assess
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 403, detail: expect.stringContaining('body') });
    expect(seen).toEqual([]);
  });

  it('answers chunk extensions over 16 KB (refused by the HTTP parser) 413 in problem+json, then closes', async () => {
    // Act: the API reads the body before it answers, so the parser meets the extension.
    const { answer, openAfter } = await rawExchange(
      `POST /links HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n\r\n1;${'a'.repeat(20_000)}\r\n`,
      () => api,
    );

    // Assess
    const { statusLine, body } = splitAnswer(answer);
    expect(statusLine).toMatch(/^HTTP\/1.1 413 /);
    expect(JSON.parse(body)).toMatchObject({ status: 413 });
    expect(openAfter).toBe(0);
  });

  it('answers a GET with Content-Length: 0 as any GET', async () => {
    // Act
    const res = await send('GET', '/links', { authorization: 'Bearer good', 'content-length': '0' });

    // Assess
    expect(res.status).toBe(204);
  });

  it('answers a body over 10 MB announced by Content-Length 413 before reading it', async () => {
    // Prepare
    seen.length = 0;

    // Act: only the head is sent; the answer must not wait for the 10 MB.
    const res = await send('POST', '/links', {
      authorization: 'Bearer good',
      'content-length': String(10 * 1024 * 1024 + 1),
    });

    // Assess
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ status: 413, title: 'Content Too Large' });
    expect(seen).toEqual([]);
  });

  it('answers a chunked body that grows past 10 MB 413 and stops reading', async () => {
    // Prepare
    seen.length = 0;

    // Act
    const res = await send(
      'POST',
      '/links',
      { authorization: 'Bearer good', 'transfer-encoding': 'chunked' },
      Buffer.alloc(10 * 1024 * 1024 + 1, 'a'),
    );

    // Assess
    expect(res.status).toBe(413);
    expect(seen).toEqual([]);
  });

  it('passes a body within the quota to the route', async () => {
    // Prepare
    seen.length = 0;

    // Act
    const res = await send(
      'POST',
      '/links',
      { authorization: 'Bearer good', 'content-type': 'application/json', 'content-length': '8' },
      Buffer.from('{"a":1} '),
    );

    // Assess
    expect(res.status).toBe(204);
    expect(seen).toEqual([expect.objectContaining({ body: '{"a":1} ' })]);
  });

  it('hands the gateway several Cookie lines as one Cookie header', async () => {
    // Prepare: two Cookie lines on the wire (Node's client would join them into one).
    cookies.length = 0;
    const { port } = new URL(edge.url);

    // Act
    const head = await new Promise<string>((done, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'GET /links HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer good\r\n' +
            'Cookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk;
      });
      socket.on('end', () => done(text));
      socket.on('error', reject);
    });

    // Assess
    expect(head).toMatch(/^HTTP\/1\.1 204/);
    expect(cookies).toEqual(['a=1; b=2']);
  });

  it.each([
    ['the last value wins, as API Gateway keeps it', ['Bearer bad', 'Bearer good'], 204],
    ['an earlier good value does not help', ['Bearer good', 'Bearer bad'], 401],
  ])('hands the gateway every Authorization header: %s', async (_, values, status) => {
    // Prepare
    seen.length = 0;

    // Act
    const res = await send('GET', '/links', { authorization: values });

    // Assess
    expect(res.status).toBe(status);
    if (status === 204) expect(seen).toEqual([{ headers: 'Bearer good', multi: values, body: null }]);
  });
});

describe('fields: names and values as a CloudFront Function sees them', () => {
  it('keeps the first value and lists every value of a repeated name', () => {
    // Act
    const result = fields([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);

    // Assess
    expect(result).toEqual({
      a: { value: '1', multiValue: [{ value: '1' }, { value: '3' }] },
      b: { value: '2' },
    });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'treats a name like %s as a plain field, touching no built-in object',
    (name) => {
      // Act
      const result = fields([
        [name, 'x'],
        [name, 'y'],
      ]);

      // Assess
      expect(Object.hasOwn(result, name)).toBe(true);
      expect(result[name]).toEqual({ value: 'x', multiValue: [{ value: 'x' }, { value: 'y' }] });
      expect(Object.hasOwn(Object, 'multiValue')).toBe(false);
      expect(Object.hasOwn(Object.prototype, 'multiValue')).toBe(false);
    },
  );
});

describe('the local edge: /files/ with edge functions and an origin', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const KEY_PAIR_ID = 'KLOCALTEST';
  let origin: Server;
  let originUrl: URL;
  const edges: { url: string; server: Server }[] = [];
  /** Resolves when the origin's endless answer is closed, with the bytes it had sent. */
  let endlessClosed: Promise<number> = Promise.resolve(0);

  beforeAll(async () => {
    // A stand-in bucket: one object, a key S3 refuses (400), one it hides (403), a failing one (500) and one
    // that streams until the edge lets go of it.
    origin = createServer((req, res) => {
      if (req.url === '/signet-test/endless.bin') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(Buffer.alloc(64 * 1024));
          sent += 64 * 1024;
        }, 5);
        endlessClosed = new Promise((done) =>
          res.on('close', () => {
            clearInterval(timer);
            done(sent);
          }),
        );
      } else if (req.url === '/signet-test/refused.txt') res.writeHead(400).end('<Error/>');
      else if (req.url === '/signet-test/broken.txt') res.writeHead(500).end('<Error/>');
      // S3 without s3:ListBucket on the origin's role: a missing key is a 403.
      else if (req.url === '/signet-test/unlisted.txt') res.writeHead(403).end('<Error/>');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    await new Promise<void>((done) => origin.listen(0, '127.0.0.1', done));
    originUrl = new URL(`http://127.0.0.1:${(origin.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    for (const edge of edges) await new Promise((done) => edge.server.close(done));
    await new Promise((done) => origin.close(done));
  });

  async function edgeWithFunctions(viewerRequest?: EdgeFunction, viewerResponse?: EdgeFunction) {
    const edge = await edgeWith(() => undefined, {
      trustedKeys: new Map([[KEY_PAIR_ID, publicKey]]),
      origin: originUrl,
      ...(viewerRequest ? { viewerRequest } : {}),
      ...(viewerResponse ? { viewerResponse } : {}),
    });
    edges.push(edge);
    const signed = (key: string) =>
      getSignedUrl({
        url: `${edge.url}/files/${key}`,
        keyPairId: KEY_PAIR_ID,
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        dateLessThan: new Date(Date.now() + 60_000).toISOString(),
      });
    return { edge, signed };
  }

  it.each([
    [
      'under the Host it was signed for',
      200,
      (url: URL) => `${url.pathname}${url.search}`,
      (url: URL) => url.host,
    ],
    ['under another Host', 403, (url: URL) => `${url.pathname}${url.search}`, () => 'other.example'],
    [
      'as an absolute-form target naming its host (RFC 9112 §3.2.2: it wins over Host)',
      200,
      (url: URL) => url.href,
      () => 'other.example',
    ],
    [
      'as an absolute-form target naming another host',
      403,
      (url: URL) => `http://other.example${url.pathname}${url.search}`,
      (url: URL) => url.host,
    ],
    [
      'as an absolute-form target naming no host',
      400,
      (url: URL) => `http://${url.pathname}${url.search}`,
      (url: URL) => url.host,
    ],
  ])('a signed URL asked for %s answers %i', async (_, status, target, host) => {
    // Prepare: CloudFront checks the URL the viewer asked for, host included.
    const { edge, signed } = await edgeWithFunctions();
    const url = new URL(signed('a.txt'));

    // Act
    const answer = await exchangeRaw(
      Number(new URL(edge.url).port),
      `GET ${target(url)} HTTP/1.1\r\nHost: ${host(url)}\r\nConnection: close\r\n\r\n`,
    );

    // Assess
    expect(splitAnswer(answer).statusLine).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
  });

  it('awaits async functions, as cloudfront-js-2.0 allows', async () => {
    // Prepare
    const { signed } = await edgeWithFunctions(
      async (event) => {
        const request = (event as { request: { uri: string } }).request;
        request.uri = request.uri.replace('/files/', '/');
        return request;
      },
      async (event) => {
        const response = (event as { response: { headers: Record<string, { value: string }> } }).response;
        response.headers['content-disposition'] = { value: 'attachment; filename="a.txt"' };
        return response;
      },
    );

    // Act
    const res = await get(signed('a.txt'));

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello');
    expect(res.headers['content-disposition']).toBe('attachment; filename="a.txt"');
  });

  it('answers with the response a viewer-request function returns: status, headers, body', async () => {
    // Prepare
    const { signed } = await edgeWithFunctions(() => ({
      statusCode: 302,
      statusDescription: 'Found',
      headers: { location: { value: 'https://example.com/moved' } },
      body: { encoding: 'text', data: 'moved' },
    }));

    // Act
    const res = await get(signed('a.txt'));

    // Assess
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://example.com/moved');
    expect(res.body).toBe('moved');
  });

  it.each([
    [
      'viewer-request throws',
      () => {
        throw new Error('boom');
      },
      undefined,
    ],
    ['viewer-request returns nothing', () => undefined, undefined],
    [
      'viewer-response rejects',
      undefined,
      async () => {
        throw new Error('boom');
      },
    ],
  ])('answers 503 problem+json when %s, as CloudFront does', async (_, viewerRequest, viewerResponse) => {
    // Prepare
    const { signed } = await edgeWithFunctions(viewerRequest, viewerResponse);

    // Act
    const res = await get(signed('a.txt'));

    // Assess
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(JSON.parse(res.body)).toMatchObject({ status: 503 });
  });

  it.each([
    ['passes an origin 400 on as a 400', 'refused.txt', 400],
    ['answers an origin 403 (a missing key, without s3:ListBucket) with 404', 'unlisted.txt', 404],
    ['answers an origin 500 with 502', 'broken.txt', 502],
  ])('%s', async (_, key, status) => {
    // Prepare
    const { signed } = await edgeWithFunctions();

    // Act
    const res = await get(signed(key));

    // Assess
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status });
  });

  it('lets go of the origin when the viewer goes away mid-download', async () => {
    // Prepare
    const { signed } = await edgeWithFunctions();

    // Act: read the first bytes, then hang up.
    await new Promise<void>((done, reject) => {
      const out = httpRequest(signed('endless.bin'), (res) => {
        res.once('data', () => {
          out.destroy();
          done();
        });
      });
      out.on('error', () => undefined);
      out.on('response', (res) => res.on('error', reject));
      out.end();
    });
    const sent = await Promise.race([
      endlessClosed,
      new Promise<string>((done) => setTimeout(() => done('still open after 5 s'), 5000)),
    ]);

    // Assess
    expect(typeof sent).toBe('number');
  });

  /** A raw connection to the edge: what it received so far, and when it closed. */
  function rawConnection(url: URL) {
    const socket = connect(Number(url.port), '127.0.0.1');
    const received: Buffer[] = [];
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    const text = () => Buffer.concat(received).toString('latin1');
    const until = (ready: () => boolean) =>
      new Promise<void>((done) => {
        const check = () => (ready() ? done() : socket.once('data', check));
        check();
      });
    return { socket, closed, text, until };
  }
  const getLine = (url: URL) => `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`;

  it('drops a connection that sends garbage mid-download, writing nothing into the file', async () => {
    // Prepare: a download under way on a raw connection.
    const { signed } = await edgeWithFunctions();
    const url = new URL(signed('endless.bin'));
    const connection = rawConnection(url);
    connection.socket.write(getLine(url));
    await connection.until(() => connection.text().length > 1024);

    // Act: an unparseable second request on the same connection.
    connection.socket.write('GARBAGE\r\n\r\n');
    await connection.closed;

    // Assess: one answer only, the download; no problem+json inside its bytes.
    const text = connection.text();
    expect(text.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(text.indexOf('HTTP/1.1', 1)).toBe(-1);
    expect(text).not.toContain('problem+json');
  });

  /** An edge whose viewer-request function holds `slow.txt` until released. */
  async function edgeHoldingSlow() {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((done) => {
      release = done;
    });
    const { signed } = await edgeWithFunctions(async (event) => {
      const request = (event as { request: { uri: string } }).request;
      if (request.uri.includes('slow')) await gate;
      request.uri = request.uri.replace('/files/', '/');
      return request;
    });
    return { signed, release: () => release() };
  }

  it.each([
    ['behind a download under way', 'endless.bin', true],
    ['behind a finished answer', 'a.txt', true],
    ['sent in one write with the first request', 'a.txt', false],
  ])(
    'drops the connection when garbage follows a pipelined request still waiting %s',
    async (_, first, waitForFirst) => {
      // Prepare
      const { signed, release } = await edgeHoldingSlow();
      const url = new URL(signed(first));
      const connection = rawConnection(url);
      const pipelined = `${getLine(new URL(signed('slow.txt')))}GARBAGE\r\n\r\n`;

      // Act
      if (waitForFirst) {
        connection.socket.write(getLine(url));
        await connection.until(() => connection.text().length > 200);
        connection.socket.write(pipelined);
      } else {
        connection.socket.write(`${getLine(url)}${pipelined}`);
      }
      await connection.closed;
      release();

      // Assess: no error answer, which would be taken for the waiting request's.
      expect(connection.text()).not.toMatch(/HTTP\/1\.1 400/);
      expect(connection.text()).not.toContain('problem+json');
    },
  );

  it('answers garbage after a finished answer on a kept-alive connection with its 400', async () => {
    // Prepare
    const { signed } = await edgeWithFunctions();
    const url = new URL(signed('a.txt'));
    const connection = rawConnection(url);
    connection.socket.write(getLine(url));
    await connection.until(() => connection.text().includes('hello'));

    // Act
    connection.socket.write('GARBAGE\r\n\r\n');
    await connection.closed;

    // Assess
    expect(connection.text()).toMatch(
      /^HTTP\/1\.1 200 [\s\S]*hello[\s\S]*HTTP\/1\.1 400 [\s\S]*problem\+json/,
    );
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])(
    'answers %s on a signed URL with 403, as CloudFront does for a method the behaviour does not allow',
    async (method) => {
      // Prepare
      const { signed } = await edgeWithFunctions();

      // Act
      const res = await get(signed('a.txt'), {}, method);

      // Assess
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({
        status: 403,
        type: 'https://signet.dev/problems/forbidden',
      });
    },
  );

  it.each<[KeyStatus, number]>([
    ['active', 200],
    ['trusted', 200],
    ['retired', 403],
  ])('serves a URL signed by a %s key of the key group: %i', async (status, expected) => {
    // Prepare: the key group as keys.json holds it, the signing key in the given status.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const entry = (name: string, id: string, keyStatus: KeyStatus, key: KeyObject): KeyEntry => ({
      name,
      id,
      status: keyStatus,
      publicKey: key.export({ type: 'spki', format: 'pem' }).toString(),
      createdAt: '2030-01-01T00:00:00.000Z',
    });
    const group = [
      entry('signing', KEY_PAIR_ID, status, publicKey),
      entry('other', 'KOTHERKEY', status === 'active' ? 'trusted' : 'active', other.publicKey),
    ];
    const edge = await edgeWith(() => undefined, { trustedKeys: trustedKeys(group), origin: originUrl });
    edges.push(edge);
    const url = getSignedUrl({
      url: `${edge.url}/files/a.txt`,
      keyPairId: KEY_PAIR_ID,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      dateLessThan: new Date(Date.now() + 60_000).toISOString(),
    });

    // Act
    const res = await get(url);

    // Assess
    expect(res.status).toBe(expected);
    if (expected === 403)
      expect(JSON.parse(res.body)).toMatchObject({ detail: expect.stringContaining('UnknownKey') });
    else expect(res.body).toBe('hello');
  });
});
