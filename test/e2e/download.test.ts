// End to end: `GET /d/{key}` on the real local stack (edge → REST API stand-in → the real
// authorizer and download handlers), then the signed URL itself against the S3 stand-in
// (SigV4-checked) or the edge (CloudFront signed URL check + the built edge functions).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../infra/local/issuer.ts';
import { type RunningStack, startStack } from './harness.ts';
import {
  ask,
  awaitFreshWindow,
  downloadPath,
  expectProblem,
  expectProblemResponse,
  flipChar,
  follow,
  parseDisposition,
  putObject,
  rawParam,
  rawRequest,
  redirectTo,
  replaceParam,
  s3Client,
  VIAS,
  type Via,
} from './helpers.ts';

const SAMPLES = resolve(import.meta.dirname, '../../samples');
const BODY = 'Hello, Signet! 0123456789 the quick brown fox.';
const KEY = 'public/e2e/hello.txt';
const OTHER_KEY = 'public/e2e/other.txt';
const SECRET_KEY = 'users/someone-else/x.txt';
const PAGE_KEY = 'public/e2e/page.html';
const PAGE = '<script>fetch("/d/users/dev-user/invoice-0001.txt")</script>';

let stack: RunningStack;
let s3: S3Client;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  s3 = s3Client(stack.endpoints);
  await Promise.all([
    putObject(s3, stack.endpoints, KEY, BODY, { contentType: 'text/plain; charset=utf-8' }),
    putObject(s3, stack.endpoints, PAGE_KEY, PAGE, { contentType: 'text/html' }),
    putObject(s3, stack.endpoints, OTHER_KEY, 'another object'),
    putObject(s3, stack.endpoints, SECRET_KEY, 'someone else’s secret'),
  ]);
  token = await stack.token();
});

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

const expectedOrigin = (via: Via) => (via === 's3' ? stack.endpoints.s3 : stack.endpoints.edge);

describe('GET /d/{key}: the 302 and the signed URL behind it', () => {
  it.each(VIAS)(
    'via=%s: 302 to a signed URL that serves the exact bytes with the forced disposition',
    async (via) => {
      // Act
      const location = await redirectTo(stack.endpoints, downloadPath(KEY, { via }), token, via);
      const file = await follow(location);

      // Assess
      expect(file.status).toBe(200);
      expect(file.body.toString('utf8')).toBe(BODY);
      const disposition = parseDisposition(file.headers.get('content-disposition'));
      expect(disposition).toEqual({
        type: 'attachment',
        fallback: 'hello.txt',
        extended: "UTF-8''hello.txt",
        name: 'hello.txt',
      });
    },
  );

  it('defaults to via=cdn locally (a distribution is configured)', async () => {
    // Act
    const location = await redirectTo(stack.endpoints, downloadPath(KEY), token, 'cdn');
    const file = await follow(location);

    // Assess
    expect(new URL(location).pathname).toBe('/files/public/e2e/hello.txt');
    expect(file.status).toBe(200);
    expect(file.body.toString('utf8')).toBe(BODY);
  });

  // An HTML file shown inline would run its script on the origin of /d/* and the token cookie.
  it.each(
    VIAS.flatMap((via) => [
      [via, 'a text file', KEY, 'text/plain; charset=utf-8', BODY, 'inline'],
      [via, 'an HTML file', PAGE_KEY, 'text/html', PAGE, 'attachment'],
    ]),
  )('via=%s: disposition=inline for %s is served %s', async (via, _, key, type, body, disposition) => {
    // Act
    const location = await redirectTo(
      stack.endpoints,
      downloadPath(key, { via, disposition: 'inline' }),
      token,
      via,
    );
    const file = await follow(location);

    // Assess
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe(type);
    expect(file.body.toString('utf8')).toBe(body);
    expect(parseDisposition(file.headers.get('content-disposition'))).toMatchObject({
      type: disposition,
      name: key.split('/').at(-1),
    });
  });

  it.each(VIAS)(
    'via=%s: an inline URL for an image overwritten with HTML after signing never shows the HTML',
    async (via) => {
      // Prepare: a URL signed inline for a PNG; then the key holds a page with a script.
      const key = `public/e2e/swap-${via}.png`;
      const put = (ContentType: string, Body: string) =>
        s3.send(new PutObjectCommand({ Bucket: stack.endpoints.bucket, Key: key, Body, ContentType }));
      await put('image/png', 'png');
      const location = await redirectTo(
        stack.endpoints,
        downloadPath(key, { via, disposition: 'inline' }),
        token,
        via,
      );
      await put('text/html', '<script>alert(document.domain)</script>');

      // Act
      const file = await follow(location);

      // Assess: S3 answers the type the URL was signed for; the edge serves what is not
      // shown inline as an attachment, and lets nothing be sniffed.
      expect(file.status).toBe(200);
      if (via === 's3') {
        expect(file.headers.get('content-type')).toBe('image/png');
      } else {
        expect(parseDisposition(file.headers.get('content-disposition'))).toMatchObject({
          type: 'attachment',
        });
        expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      }
    },
  );

  it.each(VIAS)(
    'via=%s: Accept: application/json answers 200 with {url, expiresAt, via, filename}',
    async (via) => {
      // Act
      const before = Date.now();
      const res = await ask(stack.endpoints, downloadPath(KEY, { via, filename: 'Résumé.txt' }), {
        token,
        headers: { accept: 'application/json' },
      });
      const after = Date.now();

      // Assess
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      expect(res.headers.get('location')).toBeNull();
      const body = (await res.json()) as { url: string; expiresAt: string; via: string; filename: string };
      expect(Object.keys(body).sort()).toEqual(['expiresAt', 'filename', 'url', 'via']);
      expect(body.via).toBe(via);
      expect(body.filename).toBe('Résumé.txt');
      expect(new URL(body.url).origin).toBe(expectedOrigin(via));
      // Default TTL 300 s from a signing time rounded down to 60 s: 240 to 300 s left.
      const signedAt = Date.parse(body.expiresAt) - 300_000;
      expect(signedAt % 60_000).toBe(0);
      expect(signedAt).toBeGreaterThan(before - 60_000);
      expect(signedAt).toBeLessThanOrEqual(after);
      const file = await follow(body.url);
      expect(file.status).toBe(200);
      expect(file.body.toString('utf8')).toBe(BODY);
      expect(parseDisposition(file.headers.get('content-disposition')).name).toBe('Résumé.txt');
    },
  );

  it.each(VIAS)('via=%s: the expiry the JSON reports is the one signed into the URL', async (via) => {
    // Act
    const res = await ask(stack.endpoints, downloadPath(KEY, { via }), {
      token,
      headers: { accept: 'application/json' },
    });
    const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };

    // Assess
    if (via === 'cdn') {
      expect(Number(rawParam(url, 'Expires')) * 1000).toBe(Date.parse(expiresAt));
    } else {
      const date = rawParam(url, 'X-Amz-Date') ?? '';
      const signedAt = Date.parse(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
      );
      expect(signedAt + Number(rawParam(url, 'X-Amz-Expires')) * 1000).toBe(Date.parse(expiresAt));
    }
  });

  it.each(VIAS)('via=%s: HEAD /d/{key} answers the same 302 and headers with no body', async (via) => {
    // Act
    await awaitFreshWindow(60, 3000);
    const get = await ask(stack.endpoints, downloadPath(KEY, { via }), { token });
    const head = await ask(stack.endpoints, downloadPath(KEY, { via }), { token, method: 'HEAD' });

    // Assess
    expect(head.status).toBe(302);
    expect(await head.text()).toBe('');
    expect(get.status).toBe(302);
    // Each present on GET, so equal means carried, not both missing.
    expect(get.headers.get('cache-control')).toBe('private, no-store');
    expect(get.headers.get('referrer-policy')).toBe('no-referrer');
    expect(get.headers.get('x-content-type-options')).toBe('nosniff');
    expect(get.headers.get('location')).toBeTruthy();
    for (const name of ['location', 'cache-control', 'referrer-policy', 'x-content-type-options']) {
      expect(head.headers.get(name), name).toBe(get.headers.get(name));
    }
  });

  it.each(VIAS)(
    'via=%s: the token may come in the signet_token cookie instead of the header',
    async (via) => {
      // Act
      const res = await ask(stack.endpoints, downloadPath(KEY, { via }), {
        headers: { cookie: `theme=dark; signet_token=${token}; other=1` },
      });

      // Assess
      expect(res.status).toBe(302);
      const file = await follow(res.headers.get('location') as string);
      expect(file.status).toBe(200);
      expect(file.body.toString('utf8')).toBe(BODY);
    },
  );

  it('the cookie counts behind a Basic credential, as a browser on a password-protected site sends both', async () => {
    // Act
    const res = await ask(stack.endpoints, downloadPath(KEY, { via: 's3' }), {
      headers: { authorization: 'Basic ZGV2LXVzZXI6cGFzcw==', cookie: `signet_token=${token}` },
    });

    // Assess
    expect(res.status).toBe(302);
    expect((await follow(res.headers.get('location') as string)).body.toString('utf8')).toBe(BODY);
  });

  it('two Authorization headers are a 401, even with the last one Basic and a cookie behind it', async () => {
    // Act
    const res = await rawRequest(stack.endpoints.edge, downloadPath(KEY, { via: 's3' }), {
      authorization: [`Bearer ${await stack.token({ sub: 'bob' })}`, 'Basic ZGV2LXVzZXI6cGFzcw=='],
      cookie: `signet_token=${token}`,
    });

    // Assess
    expect(res.status).toBe(401);
    expectProblem(401, res.headers['content-type'] as string, res.body);
  });

  it('two Authorization headers are a 401 behind 2,100 other headers too (Node would drop those past 2,000)', async () => {
    // Act
    const res = await rawRequest(stack.endpoints.edge, downloadPath(KEY, { via: 's3' }), {
      a: Array<string>(2100).fill('1'),
      authorization: [`Bearer ${await stack.token({ sub: 'bob' })}`, 'Basic ZGV2LXVzZXI6cGFzcw=='],
      cookie: `signet_token=${token}`,
    });

    // Assess
    expect(res.status).toBe(401);
  });

  it.each(VIAS)('via=%s: two requests in one signing window get the very same Location', async (via) => {
    // Prepare
    await awaitFreshWindow(60, 3000);

    // Act
    const first = await redirectTo(stack.endpoints, downloadPath(KEY, { via }), token, via);
    const second = await redirectTo(stack.endpoints, downloadPath(KEY, { via }), token, via);
    const otherName = await redirectTo(
      stack.endpoints,
      downloadPath(KEY, { via, filename: 'x.txt' }),
      token,
      via,
    );

    // Assess
    expect(second).toBe(first);
    expect(otherName).not.toBe(first);
  });

  it.each(VIAS)(
    'via=%s: the Location never comes from the request (Host, X-Forwarded-*, Forwarded)',
    async (via) => {
      // Act
      const res = await rawRequest(stack.endpoints.edge, downloadPath(KEY, { via }), {
        host: 'evil.example',
        authorization: `Bearer ${token}`,
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        forwarded: 'host=evil.example;proto=https',
      });

      // Assess
      expect(res.status, res.body).toBe(302);
      const location = new URL(res.headers.location as string);
      expect(location.origin).toBe(expectedOrigin(via));
      expect(res.headers.location).not.toContain('evil.example');
    },
  );
});

describe('Range requests through both signed URLs', () => {
  const cases: [string, number, string, string][] = [
    ['bytes=0-4', 206, BODY.slice(0, 5), `bytes 0-4/${BODY.length}`],
    ['bytes=5-', 206, BODY.slice(5), `bytes 5-${BODY.length - 1}/${BODY.length}`],
    ['bytes=-5', 206, BODY.slice(-5), `bytes ${BODY.length - 5}-${BODY.length - 1}/${BODY.length}`],
    ['bytes=0-0', 206, BODY.slice(0, 1), `bytes 0-0/${BODY.length}`],
  ];
  const locations = new Map<Via, string>();

  beforeAll(async () => {
    for (const via of VIAS) {
      locations.set(via, await redirectTo(stack.endpoints, downloadPath(KEY, { via }), token, via));
    }
  });

  describe.each(VIAS)('via=%s', (via) => {
    it.each(cases)(
      '%s → %i with the right bytes and Content-Range',
      async (range, status, bytes, contentRange) => {
        // Act
        const file = await follow(locations.get(via) as string, { headers: { range } });

        // Assess
        expect(file.status).toBe(status);
        expect(file.body.toString('utf8')).toBe(bytes);
        expect(file.headers.get('content-range')).toBe(contentRange);
        expect(file.headers.get('content-length')).toBe(String(Buffer.byteLength(bytes)));
        expect(parseDisposition(file.headers.get('content-disposition')).name).toBe('hello.txt');
      },
    );

    it('an unsatisfiable range → 416', async () => {
      // Act
      const file = await follow(locations.get(via) as string, {
        headers: { range: `bytes=${BODY.length + 10}-` },
      });

      // Assess
      expect(file.status).toBe(416);
      expect(file.headers.get('content-range')).toBe(`bytes */${BODY.length}`);
      expect(file.body.toString('utf8')).not.toContain(BODY);
    });

    it('If-Range: the range stands for the current ETag, the whole file comes for another', async () => {
      // Prepare
      const location = locations.get(via) as string;
      const etag = (await follow(location)).headers.get('etag') ?? '';

      // Act
      const same = await follow(location, { headers: { range: 'bytes=0-4', 'if-range': etag } });
      const changed = await follow(location, {
        headers: { range: 'bytes=0-4', 'if-range': '"0123456789abcdef0123456789abcdef"' },
      });

      // Assess
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect([same.status, same.body.toString('utf8')]).toEqual([206, BODY.slice(0, 5)]);
      expect([changed.status, changed.body.toString('utf8')]).toEqual([200, BODY]);
    });

    it('conditional requests: 304 with the validators, 412 for a failed If-Match', async () => {
      // Prepare
      const location = locations.get(via) as string;
      const first = await follow(location);
      const etag = first.headers.get('etag') ?? '';

      // Act
      const unchanged = await follow(location, { headers: { 'if-none-match': etag } });
      const changed = await follow(location, { headers: { 'if-match': '"not-this-one"' } });

      // Assess
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(unchanged.status).toBe(304);
      expect(unchanged.body.length).toBe(0);
      expect(unchanged.headers.get('etag')).toBe(etag);
      expect(unchanged.headers.get('last-modified')).toBe(first.headers.get('last-modified'));
      expect(changed.status).toBe(412);
      expect(changed.body.toString('utf8')).not.toContain(BODY);
    });
  });
});

describe('who may download what', () => {
  it.each(VIAS)(
    'via=%s: 409 problem+json for an archived object, never a URL S3 would refuse',
    async (via) => {
      // Prepare: the local S3 keeps the storage class and answers it on HEAD, as S3 does.
      const key = `public/e2e/archived-${via}.txt`;
      await s3.send(
        new PutObjectCommand({
          Bucket: stack.endpoints.bucket,
          Key: key,
          Body: 'old',
          StorageClass: 'GLACIER',
        }),
      );

      // Act
      const res = await ask(stack.endpoints, downloadPath(key, { via }), { token });

      // Assess
      const problem = await expectProblemResponse(res, 409);
      expect(res.headers.get('location')).toBeNull();
      expect(problem.type).toMatch(/archived$/);
    },
  );

  it('400 from the gateway for a key whose encoded path makes the method ARN over 1,600 bytes', async () => {
    // Prepare: 340 CJK characters are 1,020 UTF-8 bytes (a key S3 takes) but 3,060 encoded.
    const key = `public/${'報'.repeat(340)}`;

    // Act
    const res = await ask(stack.endpoints, downloadPath(key), { token });

    // Assess
    const problem = await expectProblemResponse(res, 400);
    expect(problem.detail).toBe('the gateway refused the request: a malformed query, or a path too long');
  });

  it('a + in the query is a space, as API Gateway decodes it (%2B is the plus)', async () => {
    // Act
    const res = await ask(stack.endpoints, `${downloadPath(KEY)}?filename=a+b%2Bc.txt`, {
      token,
      headers: { accept: 'application/json' },
    });

    // Assess
    expect(res.status).toBe(200);
    expect(((await res.json()) as { filename: string }).filename).toBe('a b+c.txt');
  });

  it('404 problem+json for a missing object', async () => {
    // Act
    const res = await ask(stack.endpoints, downloadPath('public/e2e/missing.txt'), { token });

    // Assess
    const problem = await expectProblemResponse(res, 404);
    expect(res.headers.get('location')).toBeNull();
    expect(problem.type).toMatch(/not-found$/);
  });

  describe('401 with WWW-Authenticate: Bearer and problem+json', () => {
    const cases: [string, () => Promise<Record<string, string>>][] = [
      ['no token', async () => ({})],
      ['a garbage token', async () => ({ authorization: 'Bearer garbage' })],
      ['a garbage cookie', async () => ({ cookie: 'signet_token=not.a.jwt' })],
      ['a Basic credential', async () => ({ authorization: 'Basic ZGV2LXVzZXI6cGFzcw==' })],
      [
        'a token that expired 120 s ago (past the 30 s tolerance)',
        async () => ({ authorization: `Bearer ${await stack.token({ ttl: -120 })}` }),
      ],
      [
        'a token for another audience',
        async () => ({
          authorization: `Bearer ${await mintToken(stack.stateDir, {
            issuer: stack.endpoints.issuer,
            audience: 'someone-else',
            ttlSeconds: 600,
          })}`,
        }),
      ],
      [
        'a token from another issuer',
        async () => ({
          authorization: `Bearer ${await mintToken(stack.stateDir, {
            issuer: 'http://127.0.0.1:1',
            audience: stack.endpoints.audience,
            ttlSeconds: 600,
          })}`,
        }),
      ],
      [
        'a token signed by another key under the issuer kid',
        async () => {
          const stored = JSON.parse(
            await readFile(join(stack.stateDir, 'issuer', 'private.jwk.json'), 'utf8'),
          ) as { kid: string };
          const { privateKey } = await generateKeyPair('RS256');
          const forged = await new SignJWT({ scope: 'downloads:all' })
            .setProtectedHeader({ alg: 'RS256', kid: stored.kid })
            .setIssuer(stack.endpoints.issuer)
            .setAudience(stack.endpoints.audience)
            .setSubject('dev-user')
            .setExpirationTime('10m')
            .sign(privateKey);
          return { authorization: `Bearer ${forged}` };
        },
      ],
      [
        'an unsigned (alg none) token',
        async () => {
          const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
          const now = Math.floor(Date.now() / 1000);
          const payload = {
            iss: stack.endpoints.issuer,
            aud: stack.endpoints.audience,
            sub: 'dev-user',
            scope: 'downloads:all',
            exp: now + 600,
          };
          return { authorization: `Bearer ${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.` };
        },
      ],
    ];

    it.each(cases)('%s', async (_, headers) => {
      // Act
      const res = await ask(stack.endpoints, downloadPath(KEY, { via: 's3' }), { headers: await headers() });

      // Assess
      await expectProblemResponse(res, 401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(res.headers.get('location')).toBeNull();
    });
  });

  it('403 insufficient_scope for a valid token without downloads:read', async () => {
    // Prepare
    const profileOnly = await stack.token({ scope: 'profile' });

    // Act
    const res = await ask(stack.endpoints, downloadPath(KEY), { token: profileOnly });

    // Assess
    await expectProblemResponse(res, 403);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
  });

  it('403 for a key outside the caller’s prefixes', async () => {
    // Act
    const res = await ask(stack.endpoints, downloadPath(SECRET_KEY), { token });

    // Assess
    await expectProblemResponse(res, 403);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('users/dev-user/ is readable by sub dev-user, with the exact sample bytes', async () => {
    // Prepare
    const expected = await readFile(join(SAMPLES, 'users/dev-user/invoice-0001.txt'));

    // Act
    const location = await redirectTo(
      stack.endpoints,
      downloadPath('users/dev-user/invoice-0001.txt'),
      token,
      'cdn',
    );
    const file = await follow(location);

    // Assess
    expect(file.status).toBe(200);
    expect(file.body.equals(expected)).toBe(true);
    expect(parseDisposition(file.headers.get('content-disposition')).name).toBe('invoice-0001.txt');
    // Uploaded with its type, so `disposition=inline` can show it.
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it.each([
    ['users/dev-user2/x.txt'],
    ['users/dev-user'],
    ['Public/e2e/hello.txt'],
    ['publicity/x.txt'],
    // A prefix is where a key starts, not anything it holds.
    ['private/public/e2e/hello.txt'],
    ['x/users/dev-user/invoice-0001.txt'],
  ])('403 for %s, which only looks like one of dev-user’s prefixes', async (key) => {
    // Act
    const res = await ask(stack.endpoints, downloadPath(key), { token });

    // Assess
    await expectProblemResponse(res, 403);
  });

  it('users/dev-user/ is not readable by sub other', async () => {
    // Prepare
    const other = await stack.token({ sub: 'other' });

    // Act
    const res = await ask(stack.endpoints, downloadPath('users/dev-user/invoice-0001.txt'), { token: other });

    // Assess
    await expectProblemResponse(res, 403);
  });

  it('a sub holding "/" is granted no user folder', async () => {
    // Prepare
    const sneaky = await stack.token({ sub: 'dev-user/..' });

    // Act
    const res = await ask(stack.endpoints, downloadPath('users/dev-user/invoice-0001.txt'), {
      token: sneaky,
    });

    // Assess
    await expectProblemResponse(res, 403);
  });

  it.each(VIAS)('via=%s: downloads:all reads any key', async (via) => {
    // Prepare
    const admin = await stack.token({ sub: 'admin', scope: 'downloads:all' });

    // Act
    const location = await redirectTo(stack.endpoints, downloadPath(SECRET_KEY, { via }), admin, via);
    const file = await follow(location);

    // Assess
    expect(file.status).toBe(200);
    expect(file.body.toString('utf8')).toBe('someone else’s secret');
  });

  describe('400 for bad keys, sent byte for byte', () => {
    const longSegmented = `public/${'abcdefg/'.repeat(127)}x`; // 7 + 1016 + 1 = 1024 bytes
    it.each([
      ['a ".." segment', '/d/public/../public/e2e/hello.txt'],
      ['an encoded "%2e%2e" segment', '/d/public/%2e%2e/public/e2e/hello.txt'],
      ['an encoded "%2E%2E" segment', '/d/public/%2E%2E/b'],
      ['a "." segment', '/d/public/./e2e/hello.txt'],
      ['a NUL byte', '/d/public/e2e/hello%00.txt'],
      ['a CR LF', '/d/public/e2e/hello%0d%0a.txt'],
      ['a leading "/"', '/d//public/e2e/hello.txt'],
      ['an empty segment', '/d/public//e2e/hello.txt'],
      ['a 1025-byte key', `/d/public/${'a'.repeat(1018)}`],
      ['a 1025-byte key in short segments', `/d/${longSegmented}y`],
      ['broken percent-encoding', '/d/public/%E0%A4%A.txt'],
      ['an empty key', '/d/'],
    ])('%s', async (_, path) => {
      // Act
      const res = await rawRequest(stack.endpoints.edge, path, { authorization: `Bearer ${token}` });

      // Assess
      expect(res.status, res.body).toBe(400);
      expectProblem(400, res.headers['content-type'] as string, res.body);
      expect(res.headers.location).toBeUndefined();
    });

    it('a 1024-byte key is still accepted (and is simply not there)', async () => {
      // Prepare
      expect(Buffer.byteLength(longSegmented)).toBe(1024);

      // Act
      const res = await rawRequest(stack.endpoints.edge, `/d/${longSegmented}`, {
        authorization: `Bearer ${token}`,
      });

      // Assess
      expect(res.status, res.body).toBe(404);
      expectProblem(404, res.headers['content-type'] as string, res.body);
    });

    it.each([
      ['a 300-byte segment', `public/${'a'.repeat(300)}.txt`],
      ['a 241-byte segment (too long for the local S3 with its suffix)', `public/${'a'.repeat(241)}`],
      ["a segment naming one of the local S3's files", 'public/welcome.txt._S3rver_object/x'],
    ])('a missing key with %s is a 404, not a storage fault', async (_, key) => {
      // Act
      const res = await rawRequest(stack.endpoints.edge, `/d/${key}`, {
        authorization: `Bearer ${token}`,
      });

      // Assess
      expect(res.status, res.body).toBe(404);
      expectProblem(404, res.headers['content-type'] as string, res.body);
    });
  });

  it.each([
    ['disposition=evil', { disposition: 'evil' }],
    ['via=ftp', { via: 'ftp' }],
    ['filename given twice', undefined],
  ])('400 for a bad parameter: %s', async (_, query) => {
    // Act
    const path = query ? downloadPath(KEY, query) : `${downloadPath(KEY)}?filename=a.txt&filename=b.txt`;
    const res = await ask(stack.endpoints, path, { token });

    // Assess
    await expectProblemResponse(res, 400);
  });

  it.each([
    ['GET', '/nope'],
    ['GET', '/'],
    ['GET', '/d'],
    ['POST', downloadPath(KEY)],
  ])('%s %s → 404 problem+json', async (method, path) => {
    // Act
    const res = await ask(stack.endpoints, path, { token, method });

    // Assess
    await expectProblemResponse(res, 404);
  });
});

describe("HEAD /d/{key}: every answer has GET's status and headers, and no body", () => {
  /** Headers that describe the connection or the moment, not the answer. */
  const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
  const answerHeaders = (headers: Record<string, string | string[] | undefined>) =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_CONNECTION.has(name)));

  const cases: [string, string, () => Promise<Record<string, string>>, number][] = [
    ['the 302 (via=cdn)', downloadPath(KEY), async () => ({ authorization: `Bearer ${token}` }), 302],
    [
      'the 302 (via=s3)',
      downloadPath(KEY, { via: 's3' }),
      async () => ({ authorization: `Bearer ${token}` }),
      302,
    ],
    [
      'the JSON answer',
      downloadPath(KEY),
      async () => ({ authorization: `Bearer ${token}`, accept: 'application/json' }),
      200,
    ],
    [
      'a 400 (bad parameter)',
      downloadPath(KEY, { via: 'ftp' }),
      async () => ({ authorization: `Bearer ${token}` }),
      400,
    ],
    ["the gateway's 401 (no token)", downloadPath(KEY), async () => ({}), 401],
    [
      'a 403 insufficient_scope',
      downloadPath(KEY),
      async () => ({ authorization: `Bearer ${await stack.token({ scope: 'profile' })}` }),
      403,
    ],
    [
      'a 403 outside the prefixes',
      downloadPath(SECRET_KEY),
      async () => ({ authorization: `Bearer ${token}` }),
      403,
    ],
    [
      'a 404 (no such object)',
      downloadPath('public/e2e/missing.txt'),
      async () => ({ authorization: `Bearer ${token}` }),
      404,
    ],
    ["the gateway's 404 (no such route under the API)", '/links/nope', async () => ({}), 404],
    ["the edge's 404 (no such route)", '/nope', async () => ({}), 404],
  ];

  it.each(cases)('%s', async (_, path, headersFor, status) => {
    // Prepare: one signing window, so both answers carry the very same Location.
    const headers = await headersFor();
    await awaitFreshWindow(60, 3000);

    // Act
    const get = await rawRequest(stack.endpoints.edge, path, headers, 'GET');
    const head = await rawRequest(stack.endpoints.edge, path, headers, 'HEAD');

    // Assess
    expect(get.status, get.body).toBe(status);
    expect(head.status).toBe(status);
    expect(head.body).toBe('');
    expect(answerHeaders(head.headers)).toEqual(answerHeaders(get.headers));
    if (status === 302) expect(head.headers.location).toBeTruthy();
    if (status === 401) expect(head.headers['www-authenticate']).toMatch(/^Bearer\b/);
    if (status >= 400) expect(head.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it.each([
    ['/links/nope', 'no such route'],
    ['/nope', 'no such path: the edge routes /d/*, /p/*, /links* and /files/*'],
  ])('%s: the 404 says which part answered it (the gateway, or the edge)', async (path, detail) => {
    // Act
    const res = await rawRequest(stack.endpoints.edge, path, {}, 'GET');

    // Assess
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ status: 404, detail });
  });
});

describe('tampered signed URLs are refused', () => {
  let cdn: string;
  let s3url: string;

  beforeAll(async () => {
    cdn = await redirectTo(stack.endpoints, downloadPath(KEY, { via: 'cdn' }), token, 'cdn');
    s3url = await redirectTo(stack.endpoints, downloadPath(KEY, { via: 's3' }), token, 's3');
  });

  it.each(VIAS)('via=%s: the untouched URL works (the control)', async (via) => {
    // Act
    const file = await follow(via === 'cdn' ? cdn : s3url);

    // Assess
    expect(file.status).toBe(200);
    expect(file.body.toString('utf8')).toBe(BODY);
  });

  it.each([
    ['one character of Signature', (u: string) => replaceParam(u, 'Signature', (v) => flipChar(v, 20))],
    [
      'the key path (another object)',
      (u: string) => u.replace('/files/public/e2e/hello.txt', '/files/public/e2e/other.txt'),
    ],
    ['one character of the key path', (u: string) => u.replace('/hello.txt', '/hellp.txt')],
    [
      'response-content-disposition (attachment → inline)',
      (u: string) =>
        replaceParam(u, 'response-content-disposition', (v) => v.replace('attachment', 'inline')),
    ],
    [
      'one character of the filename in response-content-disposition',
      (u: string) => replaceParam(u, 'response-content-disposition', (v) => v.replace('hello', 'hellp')),
    ],
    ['Expires (+1 s)', (u: string) => replaceParam(u, 'Expires', (v) => String(Number(v) + 1))],
    ['Expires (far future)', (u: string) => replaceParam(u, 'Expires', () => '4102444800')],
    ['Key-Pair-Id (unknown)', (u: string) => replaceParam(u, 'Key-Pair-Id', () => 'KAAAAAAAAAAAAA')],
    ['Signature removed', (u: string) => u.replace(/&Signature=[^&]*/, '')],
    ['an extra query parameter', (u: string) => `${u}&x=1`],
    ['no query at all', (u: string) => u.split('?')[0] as string],
  ])('via=cdn: %s → 403', async (_, tamper) => {
    // Prepare
    const url = tamper(cdn);
    expect(url).not.toBe(cdn);

    // Act
    const file = await follow(url);

    // Assess
    expect(file.status).toBe(403);
    expectProblem(403, file.headers.get('content-type'), file.body.toString('utf8'));
    expect(file.body.toString('utf8')).not.toContain(BODY);
    expect(file.headers.get('content-disposition')).toBeNull();
  });

  it.each([
    [
      'one character of X-Amz-Signature',
      (u: string) => replaceParam(u, 'X-Amz-Signature', (v) => flipChar(v, 10)),
    ],
    [
      'the key path (another object)',
      (u: string) => u.replace('/public/e2e/hello.txt', '/public/e2e/other.txt'),
    ],
    ['one character of the key path', (u: string) => u.replace('/hello.txt', '/hellp.txt')],
    [
      'response-content-disposition (attachment → inline)',
      (u: string) =>
        replaceParam(u, 'response-content-disposition', (v) => v.replace('attachment', 'inline')),
    ],
    ['X-Amz-Expires', (u: string) => replaceParam(u, 'X-Amz-Expires', () => '3600')],
    ['X-Amz-Date', (u: string) => replaceParam(u, 'X-Amz-Date', (v) => flipChar(v, 14))],
    ['X-Amz-Signature removed', (u: string) => u.replace(/&X-Amz-Signature=[^&]*/, '')],
    ['an extra query parameter', (u: string) => `${u}&response-content-type=text%2Fhtml`],
  ])('via=s3: %s → 403 from the S3 stand-in', async (_, tamper) => {
    // Prepare
    const url = tamper(s3url);
    expect(url).not.toBe(s3url);

    // Act
    const file = await follow(url);

    // Assess
    expect(file.status).toBe(403);
    expect(file.body.toString('utf8')).toMatch(/<Error><Code>\w+<\/Code>/);
    expect(file.body.toString('utf8')).not.toContain(BODY);
  });

  it('via=s3: a presigned GET refuses HEAD (the method is signed)', async () => {
    // Act
    const file = await follow(s3url, { method: 'HEAD' });

    // Assess
    expect(file.status).toBe(403);
  });

  it('via=cdn: HEAD on the signed URL works, with the headers and no body', async () => {
    // Act
    const file = await follow(cdn, { method: 'HEAD' });

    // Assess
    expect(file.status).toBe(200);
    expect(file.body.length).toBe(0);
    expect(file.headers.get('content-length')).toBe(String(BODY.length));
    expect(parseDisposition(file.headers.get('content-disposition')).name).toBe('hello.txt');
  });

  it('via=cdn: a URL for another object’s path under the same signature is refused even when the filename matches', async () => {
    // Prepare: sign a link to OTHER_KEY, then graft its query onto KEY's path.
    const other = await redirectTo(
      stack.endpoints,
      downloadPath(OTHER_KEY, { via: 'cdn', filename: 'hello.txt' }),
      token,
      'cdn',
    );
    const grafted = `${cdn.split('?')[0]}?${other.split('?')[1]}`;

    // Act
    const file = await follow(grafted);

    // Assess
    expect(file.status).toBe(403);
  });
});

describe('the edge accepts every CloudFront signed URL form of the local key group', () => {
  async function activeKey() {
    const group = JSON.parse(await readFile(join(stack.stateDir, 'keys', 'keys.json'), 'utf8')) as {
      name: string;
      id: string;
      status: string;
    }[];
    const active = group.find((k) => k.status === 'active');
    if (!active) throw new Error('no active key');
    const pem = await readFile(join(stack.stateDir, 'keys', `${active.name}.pem`), 'utf8');
    return { id: active.id, pem };
  }

  it.each([
    ['canned, SHA256', 'SHA256' as const, false],
    ['custom policy with a wildcard, SHA1', 'SHA1' as const, true],
    ['custom policy with a wildcard, SHA256', 'SHA256' as const, true],
  ])('%s → 200 with the bytes', async (_name, algorithm, custom) => {
    // Prepare
    const { getSignedUrl } = await import('@aws-sdk/cloudfront-signer');
    const { id, pem } = await activeKey();
    const url = `${stack.endpoints.edge}/files/${KEY}`;
    const expires = Math.floor(Date.now() / 1000) + 120;
    const signed = custom
      ? getSignedUrl({
          url,
          keyPairId: id,
          privateKey: pem,
          algorithm,
          policy: JSON.stringify({
            Statement: [
              {
                Resource: `${stack.endpoints.edge}/files/public/e2e/*`,
                Condition: { DateLessThan: { 'AWS:EpochTime': expires } },
              },
            ],
          }),
        })
      : getSignedUrl({
          url,
          keyPairId: id,
          privateKey: pem,
          algorithm,
          dateLessThan: new Date(expires * 1000),
        });

    // Act
    const res = await fetch(signed);

    // Assess
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(BODY);
  });

  it('a custom policy whose Resource does not cover the object → 403', async () => {
    // Prepare
    const { getSignedUrl } = await import('@aws-sdk/cloudfront-signer');
    const { id, pem } = await activeKey();
    const expires = Math.floor(Date.now() / 1000) + 120;
    const signed = getSignedUrl({
      url: `${stack.endpoints.edge}/files/${KEY}`,
      keyPairId: id,
      privateKey: pem,
      policy: JSON.stringify({
        Statement: [
          {
            Resource: `${stack.endpoints.edge}/files/users/*`,
            Condition: { DateLessThan: { 'AWS:EpochTime': expires } },
          },
        ],
      }),
    });

    // Act
    const res = await fetch(signed);

    // Assess
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});
