import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Server, STATUS_CODES } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer } from '../../infra/local/http.ts';
import { JWKS_PATH, startIssuer } from '../../infra/local/issuer.ts';
import { paths } from '../../infra/local/state.ts';
import { exchangeRaw } from '../e2e/helpers.ts';

describe('the dev issuer', () => {
  let dir: string;
  let issuer: { url: string; jwks: string; server: Server };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-issuer-'));
    issuer = await startIssuer(dir, 0);
  });

  afterAll(async () => {
    await new Promise((done) => issuer?.server.close(done));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves its JWKS on GET, one RS256 public key', async () => {
    // Act
    const res = await fetch(issuer.jwks);

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('serves only the public members, whatever a hand-edited key file holds beside them', async () => {
    // Prepare: the private members copied into the public key by hand.
    const own = await mkdtemp(join(tmpdir(), 'signet-issuer-edited-'));
    const servers: Server[] = [];
    try {
      const made = await startIssuer(own, 0);
      servers.push(made.server);
      await closeServer(made.server);
      const file = paths(own).issuerKey;
      const stored = JSON.parse(await readFile(file, 'utf8')) as { privateJwk: object; publicJwk: object };
      await writeFile(file, JSON.stringify({ ...stored, publicJwk: { ...stored.privateJwk } }));
      const edited = await startIssuer(own, 0);
      servers.push(edited.server);

      // Act
      const res = await fetch(edited.jwks);

      // Assess
      const { keys } = (await res.json()) as { keys: Record<string, string>[] };
      expect(Object.keys(keys[0] ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    } finally {
      // Closed whatever failed, so no server outlives the test.
      await Promise.all(servers.filter((server) => server.listening).map(closeServer));
      await rm(own, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'an absolute-form target (RFC 9112 §3.2.2)',
      (path: string, host: string) =>
        `GET http://${host}${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      200,
    ],
    [
      'a CONNECT (no proxy here)',
      (_: string, host: string) => `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      405,
    ],
    [
      'an HTTP/1.1 request without Host',
      (path: string) => `GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`,
      400,
    ],
    [
      'a request with two Host headers',
      (path: string, host: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nHost: ${host}\r\n\r\n`,
      400,
    ],
    [
      'an HTTP/1.0 request without Host (it needs none)',
      (path: string) => `GET ${path} HTTP/1.0\r\n\r\n`,
      200,
    ],
    [
      'an Expect other than 100-continue',
      (path: string, host: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nExpect: foo\r\n\r\n`,
      417,
    ],
    [
      'headers over 16 KB',
      (path: string, host: string) =>
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
  ])('answers %s: the JWKS, or an error in problem+json', async (_, raw, status) => {
    // Prepare
    const url = new URL(issuer.jwks);

    // Act
    const answer = await exchangeRaw(Number(url.port), raw(url.pathname, url.host));

    // Assess
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.[01] ${status} ${STATUS_CODES[status]}$`));
    if (status === 200) {
      expect(JSON.parse(body)).toHaveProperty('keys');
    } else {
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(body)).toMatchObject({ status });
    }
    if (status === 405) expect(head).toContain('Allow: GET, HEAD');
  });

  it('answers HEAD as GET, without the body', async () => {
    // Act
    const [get, head] = await Promise.all([fetch(issuer.jwks), fetch(issuer.jwks, { method: 'HEAD' })]);

    // Assess
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(await head.text()).toBe('');
  });

  it('serves the JWKS whatever the query', async () => {
    // Act
    const res = await fetch(`${issuer.jwks}?cache-buster=1`);

    // Assess
    expect(res.status).toBe(200);
  });

  it('answers another method 405 naming GET and HEAD', async () => {
    // Act
    const res = await fetch(issuer.jwks, { method: 'POST', body: '{}' });

    // Assess
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toMatchObject({
      type: 'https://signet.dev/problems/method-not-allowed',
      status: 405,
      title: 'Method Not Allowed',
    });
  });

  it.each(['/', `${JWKS_PATH}/x`, '/.well-known/openid-configuration'])(
    'answers %s 404 in problem+json',
    async (path) => {
      // Act
      const res = await fetch(`${issuer.url}${path}`);

      // Assess
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({
        type: 'https://signet.dev/problems/not-found',
        status: 404,
        title: 'Not Found',
      });
    },
  );
});
