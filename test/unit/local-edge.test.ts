import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEdgeFunctions } from '../../edge/build.ts';
import { LocalRestApi } from '../../infra/local/api-gateway.ts';
import { fields, startEdge } from '../../infra/local/edge.ts';
import { loadEdgeFunction } from '../../infra/local/edge-runtime.ts';

/** @smithy/hash-node's shape over node:crypto, enough for the origin's SigV4 signer. */
class Sha256 {
  private readonly hash = createHash('sha256');
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (res) => {
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

/** The local edge with no key in its key group and an API that may not be loaded yet. */
async function edgeWith(api: () => LocalRestApi | undefined): Promise<{ url: string; server: Server }> {
  const built = await buildEdgeFunctions();
  return startEdge({
    port: 0,
    api,
    trustedKeys: () => new Map(),
    viewerRequest: loadEdgeFunction(built.viewerRequest),
    viewerResponse: loadEdgeFunction(built.viewerResponse),
    origin: {
      // Never reached: every /files/ request here fails its signature check first.
      endpoint: new URL('http://127.0.0.1:9'),
      bucket: 'signet-test',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      sha256: Sha256,
    },
  });
}

describe('the local edge', () => {
  let api: LocalRestApi | undefined;
  let edge: { url: string; server: Server };

  beforeAll(async () => {
    edge = await edgeWith(() => api);
  });

  afterAll(async () => {
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
    api = new LocalRestApi({
      region: 'us-east-1',
      authorizer: async () => ({
        principalId: 'alice',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
        },
      }),
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

    // Act
    const res = await get(`${edge.url}/d/public/a.txt?constructor=1`);

    // Assess
    expect(res.status).toBe(204);
    expect(seen).toEqual([{ constructor: '1' }]);
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
