import { generateKeyPairSync } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { parse } from 'content-disposition';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createDownloadHandler } from '../../api/adapters/download.ts';
import { CdnSigner } from '../../api/core/cdn-signer.ts';
import { loadConfig, type Via } from '../../api/core/config.ts';
import { DownloadService } from '../../api/core/download.ts';
import { S3ObjectStore } from '../../api/core/object-store.ts';
import { bucketUrl, S3Signer } from '../../api/core/s3-signer.ts';
import type { Signer } from '../../api/core/signing.ts';

const BUCKET = 'signet-test';
const S3_HOST = 'signet-test.s3.us-east-1.amazonaws.com';
const CDN_HOST = 'd111.cloudfront.net';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test-secret' };
/** A fixed clock, 42 s into the window that starts at 2030-01-01T12:00:00Z. */
const NOW = Date.UTC(2030, 0, 1, 12, 0, 42);
const EXPIRES_AT = '2030-01-01T12:05:00.000Z';

const BASE_ENV = {
  SIGNET_BUCKET: BUCKET,
  SIGNET_REGION: 'us-east-1',
  SIGNET_ISSUER: 'https://issuer.test',
  SIGNET_AUDIENCE: 'signet',
  SIGNET_JWKS_URL: 'https://issuer.test/jwks.json',
};
const CDN_ENV = {
  ...BASE_ENV,
  SIGNET_DISTRIBUTION_DOMAIN: CDN_HOST,
  SIGNET_CF_KEY_PAIR_ID: 'K1',
  SIGNET_CF_PRIVATE_KEY_FILE: '/not/read/in/tests.pem',
};

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1', credentials: CREDENTIALS });
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const logger = new Logger({ logLevel: 'SILENT' });

function handlerFor(
  env: Record<string, string>,
  extraSigners: Partial<Record<Via, Signer>> = {},
  now: () => number = () => NOW,
) {
  const config = loadConfig(env);
  const signers: Partial<Record<Via, Signer>> = {
    s3: new S3Signer({
      bucketUrl: bucketUrl(client, config.bucket, config.region, { endpoint: config.s3Endpoint }),
      region: config.region,
      credentials: CREDENTIALS,
      sha256: client.config.sha256,
      ttlSeconds: config.urlTtlSeconds,
    }),
  };
  if (config.distributionOrigin && config.cloudFrontKeyPairId) {
    signers.cdn = new CdnSigner({
      origin: config.distributionOrigin,
      keyPairId: config.cloudFrontKeyPairId,
      privateKey,
    });
  }
  const service = new DownloadService({
    config,
    store: new S3ObjectStore(client, config.bucket),
    signers: { ...signers, ...extraSigners },
    now,
  });
  return createDownloadHandler({ service, logger });
}

/** With a distribution: via defaults to cdn. */
const handler = handlerFor(CDN_ENV);
/** Without a distribution: via=s3 only. */
const s3OnlyHandler = handlerFor(BASE_ENV);

interface Request {
  readonly key?: string | undefined;
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers?: Record<string, string>;
  readonly method?: 'GET' | 'HEAD';
  readonly authorizer?: Record<string, unknown> | null;
}

const ALICE = { sub: 'alice', scope: 'downloads:read', principalId: 'alice', integrationLatency: 7 };

/** A key as a client writes it in a URL path: each segment percent-encoded. Lone surrogates, which no URL can carry, pass as they are. */
function encodePath(key: string): string {
  return key.isWellFormed() ? key.split('/').map(encodeURIComponent).join('/') : key;
}

/** A REST API (payload 1.0) proxy event as the gateway sends it after the authorizer. */
function event(request: Request = {}): APIGatewayProxyEvent {
  const { query, headers = {}, method = 'GET', authorizer = ALICE } = request;
  // `{ key: undefined }` means "no path parameter", not "the default key".
  const key = 'key' in request ? request.key : 'public/a.pdf';
  const entries = Object.entries(query ?? {});
  const path = `/d/${key ?? ''}`;
  return {
    httpMethod: method,
    path,
    resource: '/d/{proxy+}',
    body: null,
    isBase64Encoded: false,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    // As a REST API hands it on: percent-encoded as the request wrote it.
    pathParameters: key === undefined ? null : { proxy: encodePath(key) },
    queryStringParameters:
      entries.length === 0
        ? null
        : Object.fromEntries(
            entries.map(([name, value]) => [name, Array.isArray(value) ? value.at(-1) : value]),
          ),
    multiValueQueryStringParameters:
      entries.length === 0
        ? null
        : Object.fromEntries(entries.map(([name, value]) => [name, Array.isArray(value) ? value : [value]])),
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      stage: 'prod',
      httpMethod: method,
      path: `/prod${path}`,
      resourcePath: '/d/{proxy+}',
      requestId: 'req-1',
      requestTimeEpoch: NOW,
      authorizer,
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

function header(result: APIGatewayProxyResult, name: string): string | undefined {
  const value = result.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** The problem+json contract: four members, the status, nothing leaked. */
function expectProblem(result: APIGatewayProxyResult, status: number): Record<string, unknown> {
  expect(result.statusCode).toBe(status);
  expect(header(result, 'Content-Type')).toBe('application/problem+json');
  expect(header(result, 'Cache-Control')).toBe('private, no-store');
  expect(header(result, 'Location')).toBeUndefined();
  const body = JSON.parse(result.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['detail', 'status', 'title', 'type']);
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
  });
  expect(result.body).not.toMatch(/\bat .+:\d+:\d+|AWS says|arn:aws|Error:/);
  return body;
}

function location(result: APIGatewayProxyResult): URL {
  return new URL(header(result, 'Location') ?? 'missing:');
}

function awsError(name: string, httpStatusCode: number | undefined): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    message: `AWS says: ${name} for arn:aws:s3:::${BUCKET}/secret`,
    $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
  });
}

beforeEach(() => {
  s3.reset();
  s3.on(HeadObjectCommand).resolves({ ContentLength: 3, ContentType: 'application/pdf', Metadata: {} });
});

describe('GET /d/{key}: the key as the REST API hands it on, percent-encoded', () => {
  it.each([
    ['public/Annual%20Report%202026.pdf', 'public/Annual Report 2026.pdf'],
    ['public/100%25.pdf', 'public/100%.pdf'],
    ['public/a%2Bb%20c+d.pdf', 'public/a+b c+d.pdf'],
    ['public/%E5%A0%B1%E5%91%8A.pdf', 'public/報告.pdf'],
    ['public/a%2Fb.pdf', 'public/a/b.pdf'],
  ])('%s is the key %s', async (proxy, key) => {
    // Prepare
    const raw = { ...event(), pathParameters: { proxy } };

    // Act
    const result = await handler(raw);

    // Assess
    expect(result.statusCode).toBe(302);
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: key });
  });

  it.each([
    ['a malformed escape', 'public/%ZZ.pdf'],
    ['a bare %', 'public/100%.pdf'],
    ['an escaped lone surrogate', 'public/%ED%A0%80.pdf'],
    ['an escape that is not UTF-8', 'public/%FF.pdf'],
  ])('400 for %s, never a guess', async (_, proxy) => {
    // Prepare
    const raw = { ...event(), pathParameters: { proxy } };

    // Act
    const result = await handler(raw);

    // Assess
    const problem = expectProblem(result, 400);
    expect(problem.detail).toBe('the path is not valid percent-encoded UTF-8');
    expect(s3).not.toReceiveCommand(HeadObjectCommand);
  });
});

describe('GET /d/{key}: the redirect', () => {
  it('answers 302 to a CloudFront URL by default where a distribution is configured', async () => {
    // Act
    const result = await handler(event({ key: 'public/reports/q1.pdf' }));

    // Assess
    expect(result.statusCode).toBe(302);
    expect(location(result).host).toBe(CDN_HOST);
    expect(location(result).pathname).toBe('/files/public/reports/q1.pdf');
    expect(location(result).searchParams.get('Key-Pair-Id')).toBe('K1');
    expect(header(result, 'Cache-Control')).toBe('private, no-store');
    expect(header(result, 'Referrer-Policy')).toBe('no-referrer');
    expect(header(result, 'X-Content-Type-Options')).toBe('nosniff');
    expect(result.body).toBe('');
    expect(s3).toReceiveCommandExactlyOnceWith(HeadObjectCommand, {
      Bucket: BUCKET,
      Key: 'public/reports/q1.pdf',
    });
  });

  it('answers 302 to S3 by default without a distribution', async () => {
    // Act
    const result = await s3OnlyHandler(event());

    // Assess
    expect(result.statusCode).toBe(302);
    expect(location(result).host).toBe(S3_HOST);
    expect(location(result).searchParams.get('X-Amz-Expires')).toBe('300');
    expect(header(result, 'Referrer-Policy')).toBe('no-referrer');
  });

  it.each([
    ['s3', S3_HOST],
    ['cdn', CDN_HOST],
  ])('answers via=%s on %s', async (via, host) => {
    // Act
    const result = await handler(event({ query: { via } }));

    // Assess
    expect(result.statusCode).toBe(302);
    expect(location(result).protocol).toBe('https:');
    expect(location(result).host).toBe(host);
  });

  it.each([
    ['Host', { Host: 'evil.example' }],
    ['X-Forwarded-Host', { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'http' }],
    ['Forwarded', { Forwarded: 'host=evil.example;proto=http' }],
    ['Origin and Referer', { Origin: 'https://evil.example', Referer: 'https://evil.example/x' }],
  ])('never takes the Location host from the %s header', async (_, headers) => {
    // Act
    const viaCdn = await handler(event({ headers }));
    const viaS3 = await handler(event({ headers, query: { via: 's3' } }));

    // Assess
    expect(location(viaCdn).host).toBe(CDN_HOST);
    expect(location(viaS3).host).toBe(S3_HOST);
    expect(header(viaCdn, 'Location')).not.toContain('evil');
    expect(header(viaS3, 'Location')).not.toContain('evil');
  });

  it('signs keys with characters SigV4 and CloudFront trip on', async () => {
    // Prepare
    const key = 'users/alice/a+b=c&d$e@f;g:h 報告 🎉.pdf';

    // Act
    const viaCdn = await handler(event({ key }));
    const viaS3 = await handler(event({ key, query: { via: 's3' } }));

    // Assess
    expect(
      location(viaCdn).pathname.slice('/files/'.length).split('/').map(decodeURIComponent).join('/'),
    ).toBe(key);
    expect(location(viaS3).pathname.slice(1).split('/').map(decodeURIComponent).join('/')).toBe(key);
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: key });
  });

  it.each([
    ['attachment by default', {}, 'attachment'],
    ['attachment', { disposition: 'attachment' }, 'attachment'],
    ['inline', { disposition: 'inline' }, 'inline'],
  ])('signs the disposition: %s', async (_, query, type) => {
    // Act
    const result = await handler(event({ query }));

    // Assess
    const disposition = location(result).searchParams.get('response-content-disposition') ?? '';
    expect(parse(disposition)).toMatchObject({ type, parameters: { filename: 'a.pdf' } });
  });

  it.each([
    ['a PDF', 'application/pdf', 'inline'],
    ['an image, the type in capitals', 'IMAGE/PNG', 'inline'],
    ['a video', 'video/mp4', 'inline'],
    ['audio', 'audio/mpeg', 'inline'],
    ['plain text with a charset', 'text/plain; charset=utf-8', 'inline'],
    ['CSV', 'text/csv', 'inline'],
    ['HTML', 'text/html', 'attachment'],
    ['HTML with a charset', 'Text/HTML ; charset=utf-8', 'attachment'],
    ['XHTML', 'application/xhtml+xml', 'attachment'],
    ['SVG', 'image/svg+xml', 'attachment'],
    ['XML', 'text/xml', 'attachment'],
    ['an XML feed', 'application/rss+xml', 'attachment'],
    ['JavaScript', 'text/javascript', 'attachment'],
    ['two types in one', 'text/plain, text/html', 'attachment'],
    ['an image, then HTML after a comma (a browser takes the last)', 'image/png;,text/html', 'attachment'],
    ['an image with a parameter, then HTML', 'image/png; charset=x, text/html', 'attachment'],
    ['a comma inside a quoted parameter', 'image/png; x="a,b"', 'attachment'],
    ['a type padded with a no-break space', 'text/plain\u00a0', 'attachment'],
    ['S3’s default type', 'binary/octet-stream', 'attachment'],
    ['HTML with a safe type after it, run together', 'text/htmlapplication/pdf', 'attachment'],
    ['a safe type behind a prefix', 'x/image/png', 'attachment'],
    ['a type browsers sniff', 'unknown/unknown', 'attachment'],
    ['an empty type', '', 'attachment'],
    ['no type', undefined, 'attachment'],
  ])('disposition=inline for %s (%s) is signed as %s', async (_, ContentType, type) => {
    // Prepare: a /files/* URL shares its origin with /d/* and the token cookie.
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3, ContentType, Metadata: {} });

    // Act
    const answers = await Promise.all(
      ['s3', 'cdn'].map((via) => handler(event({ query: { disposition: 'inline', via } }))),
    );

    // Assess
    for (const result of answers) {
      const disposition = location(result).searchParams.get('response-content-disposition') ?? '';
      expect(parse(disposition)).toMatchObject({ type, parameters: { filename: 'a.pdf' } });
    }
    // An inline S3 URL pins the type it was signed for: an object overwritten after signing
    // (a PNG become HTML) is still answered as that type. The CloudFront function checks the
    // type it serves instead.
    const [s3Url, cdnUrl] = answers.map((result) => location(result).searchParams);
    expect(s3Url?.get('response-content-type')).toBe(type === 'inline' ? ContentType : null);
    expect(cdnUrl?.get('response-content-type')).toBeNull();
  });

  it.each([
    ['Glacier Flexible Retrieval', { StorageClass: 'GLACIER' }, 'archived'],
    ['Deep Archive', { StorageClass: 'DEEP_ARCHIVE' }, 'archived'],
    [
      'an Intelligent-Tiering archive tier',
      { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'ARCHIVE_ACCESS' },
      'archived',
    ],
    [
      'Deep Archive, being restored',
      { StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="true"' },
      'restoring',
    ],
    [
      'Glacier, restored',
      {
        StorageClass: 'GLACIER',
        Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
      },
      undefined,
    ],
    ['Glacier Instant Retrieval', { StorageClass: 'GLACIER_IR' }, undefined],
    ['Intelligent-Tiering, not archived', { StorageClass: 'INTELLIGENT_TIERING' }, undefined],
    ['Standard (no StorageClass in the answer)', {}, undefined],
  ] as const)('an object in %s: %s', async (_, storage, state) => {
    // Prepare: S3 would refuse a GET of an archived object (403 InvalidObjectState).
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 3,
      ContentType: 'application/pdf',
      Metadata: {},
      ...storage,
    });

    // Act
    const answers = await Promise.all(['s3', 'cdn'].map((via) => handler(event({ query: { via } }))));

    // Assess
    for (const result of answers) {
      if (state === undefined) {
        expect(result.statusCode).toBe(302);
        continue;
      }
      const problem = expectProblem(result, 409);
      expect(problem.type).toBe('https://signet.dev/problems/archived');
      expect(problem.detail).toMatch(state === 'restoring' ? /being restored/ : /must be restored/);
    }
  });

  it('disposition=attachment stays attachment for a type shown inline', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3, ContentType: 'image/png', Metadata: {} });

    // Act
    const result = await handler(event({ query: { disposition: 'attachment' } }));

    // Assess
    const disposition = location(result).searchParams.get('response-content-disposition') ?? '';
    expect(parse(disposition).type).toBe('attachment');
  });

  it.each(['s3', 'cdn'])(
    'via=%s: the same Location within one stability window, a new one in the next',
    async (via) => {
      // Prepare: NOW is 12:00:42; the 60 s window runs to 12:00:59.
      let clock = NOW;
      const ticking = handlerFor(CDN_ENV, {}, () => clock);
      const ask = async (at: number) => {
        clock = at;
        return header(await ticking(event({ query: { via } })), 'Location');
      };

      // Act
      const first = await ask(NOW);
      const later = await ask(NOW + 17_000);
      const next = await ask(NOW + 18_000);

      // Assess
      expect(later).toBe(first);
      expect(next).not.toBe(first);
    },
  );

  it('lets downloads:all read any key', async () => {
    // Act
    const result = await handler(
      event({ key: 'users/bob/secret.pdf', authorizer: { sub: 'ops', scope: 'downloads:all' } }),
    );

    // Assess
    expect(result.statusCode).toBe(302);
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: 'users/bob/secret.pdf' });
  });

  it('lets a caller read its own users/{sub}/ folder', async () => {
    // Act
    const result = await handler(event({ key: 'users/alice/notes.txt' }));

    // Assess
    expect(result.statusCode).toBe(302);
  });
  it.each([
    ['teams/alice/plan.pdf', 302],
    ['teams/bob/plan.pdf', 403],
    ['public/a.pdf', 403],
    ['users/alice/notes.txt', 403],
  ])('reads SIGNET_READ_PREFIXES, not the defaults: %s answers %s', async (key, status) => {
    // Prepare
    const teams = handlerFor({ ...BASE_ENV, SIGNET_READ_PREFIXES: 'teams/{sub}/' });

    // Act
    const result = await teams(event({ key }));

    // Assess
    expect(result.statusCode).toBe(status);
  });
});

describe('GET /d/{key} with Accept: application/json', () => {
  it.each([
    ['cdn', CDN_HOST],
    ['s3', S3_HOST],
  ])('answers 200 with the %s link as JSON', async (via, host) => {
    // Act
    const result = await handler(event({ query: { via }, headers: { Accept: 'application/json' } }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(header(result, 'Content-Type')).toBe('application/json');
    expect(header(result, 'Cache-Control')).toBe('private, no-store');
    expect(header(result, 'Referrer-Policy')).toBe('no-referrer');
    expect(header(result, 'X-Content-Type-Options')).toBe('nosniff');
    expect(header(result, 'Location')).toBeUndefined();
    const body = JSON.parse(result.body);
    expect(body).toEqual({ url: expect.any(String), expiresAt: EXPIRES_AT, via, filename: 'a.pdf' });
    expect(new URL(body.url).host).toBe(host);
  });

  it.each(['application/json', 'text/html;q=0.5, application/json', 'APPLICATION/JSON'])(
    'reads %j as a wish for JSON',
    async (accept) => {
      // Act
      const result = await handler(event({ headers: { accept } }));

      // Assess
      expect(result.statusCode).toBe(200);
    },
  );

  it.each(['text/html', '*/*', 'application/jsonp', 'text/html, application/json;q=0.9'])(
    'redirects for Accept %j',
    async (accept) => {
      // Act
      const result = await handler(event({ headers: { Accept: accept } }));

      // Assess
      expect(result.statusCode).toBe(302);
    },
  );
});

describe('HEAD /d/{key}', () => {
  // The route hands HEAD the very answer GET gets, body included: API Gateway, CloudFront and
  // the local edge send no body for HEAD, and the body kept here keeps Content-Length that of
  // GET (RFC 9110 §8.6). The wire (no body, same Content-Length) is pinned end to end.
  it.each([
    ['a redirect', {}, 302],
    ['a JSON answer', { headers: { Accept: 'application/json' } }, 200],
    ['a 400', { query: { via: 'ftp' } }, 400],
    ['a 401', { authorizer: null }, 401],
    ['a 403 insufficient_scope', { authorizer: { sub: 'alice', scope: '' } }, 403],
    ['a 403', { key: 'users/bob/a.pdf' }, 403],
  ] as const)('answers %s exactly as GET does', async (_, request, status) => {
    // Act
    const get = await handler(event({ ...request, method: 'GET' }));
    const head = await handler(event({ ...request, method: 'HEAD' }));

    // Assess
    expect(head.statusCode).toBe(status);
    expect(head).toEqual(get);
  });

  it.each([
    ['a 404', () => awsError('NotFound', 404), 404],
    ['a 503', () => awsError('SlowDown', 503), 503],
  ] as const)('answers %s exactly as GET does', async (_, error, status) => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(error());

    // Act
    const get = await handler(event({ method: 'GET' }));
    const head = await handler(event({ method: 'HEAD' }));

    // Assess
    expectProblem(head, status);
    expect(head).toEqual(get);
  });
});

describe('the filename', () => {
  it.each([
    ['the parameter first', { filename: 'asked.pdf' }, 'meta.pdf', 'asked.pdf'],
    ['the metadata next', {}, 'meta.pdf', 'meta.pdf'],
    ['RFC 2047 metadata decoded', {}, '=?UTF-8?B?w6l0w6kgMjAyNC5wZGY=?=', 'été 2024.pdf'],
    ['the key segment last', {}, undefined, 'q1 report.pdf'],
    ['the key segment when the metadata is unusable', {}, '..', 'q1 report.pdf'],
    ['the parameter, sanitized', { filename: '../../etc/pa\r\nss\u202Ewd.txt' }, 'meta.pdf', 'passwd.txt'],
  ])('uses %s', async (_, query, metadata, expected) => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ Metadata: metadata === undefined ? {} : { filename: metadata } });

    // Act
    const json = await handler(
      event({ key: 'public/q1 report.pdf', query, headers: { Accept: 'application/json' } }),
    );
    const redirect = await handler(event({ key: 'public/q1 report.pdf', query }));

    // Assess
    expect(JSON.parse(json.body).filename).toBe(expected);
    const disposition = location(redirect).searchParams.get('response-content-disposition') ?? '';
    expect(disposition).not.toMatch(/[\r\n]/);
    expect(parse(disposition).parameters.filename).toBe(expected);
  });
});

describe('400 Bad Request', () => {
  it.each([
    ['an empty key', { key: '' }],
    ['no key', { key: undefined }],
    ['a "." segment', { key: 'public/./a.pdf' }],
    ['a ".." segment', { key: 'public/../users/bob/a.pdf' }],
    ['a leading "/"', { key: '/public/a.pdf' }],
    ['an empty segment', { key: 'public//a.pdf' }],
    ['a control character', { key: 'public/a\u0000.pdf' }],
    ['a newline', { key: 'public/a\n.pdf' }],
    ['a lone surrogate', { key: 'public/\ud800.pdf' }],
    ['a key over 1024 bytes', { key: `public/${'€'.repeat(340)}` }],
    ['a bad disposition', { query: { disposition: 'download' } }],
    ['a bad via', { query: { via: 'ftp' } }],
    ['an upper-case via', { query: { via: 'S3' } }],
    ['a duplicated filename', { query: { filename: ['a.pdf', 'b.pdf'] } }],
    ['a duplicated via', { query: { via: ['s3', 'cdn'] } }],
    ['a duplicated disposition', { query: { disposition: ['inline', 'attachment'] } }],
    ['an empty filename', { query: { filename: '' } }],
    ['an unusable filename', { query: { filename: '..' } }],
    ['a filename over 1024 bytes', { query: { filename: 'f'.repeat(1025) } }],
  ] as const)('answers 400 for %s, before any storage call', async (_, request) => {
    // Act
    const result = await handler(event(request));

    // Assess
    const problem = expectProblem(result, 400);
    expect(problem.title).toBe('Bad Request');
    expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
  });

  it('answers 400 for via=cdn without a distribution', async () => {
    // Act
    const result = await s3OnlyHandler(event({ query: { via: 'cdn' } }));

    // Assess
    expectProblem(result, 400);
    expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
  });

  it('answers 400 for a bad key even when the caller may not read it', async () => {
    // Act
    const result = await handler(event({ key: 'users/bob/../x', authorizer: { sub: 'alice', scope: '' } }));

    // Assess
    expectProblem(result, 400);
  });
});

describe('401 and 403', () => {
  it.each([
    ['no authorizer context', null],
    ['an empty context', {}],
    ['an empty sub', { sub: '', scope: 'downloads:read' }],
    ['a non-string sub', { sub: 42, scope: 'downloads:read' }],
  ])('answers 401 with WWW-Authenticate: Bearer for %s', async (_, authorizer) => {
    // Act
    const result = await handler(event({ authorizer }));

    // Assess
    expectProblem(result, 401);
    expect(header(result, 'WWW-Authenticate')).toBe('Bearer');
    expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
  });

  it.each([
    ['no scope', { sub: 'alice', scope: '' }],
    ['another scope', { sub: 'alice', scope: 'links:write' }],
    ['no scope claim', { sub: 'alice' }],
  ])('answers 403 insufficient_scope for %s', async (_, authorizer) => {
    // Act
    const result = await handler(event({ authorizer }));

    // Assess
    expectProblem(result, 403);
    expect(header(result, 'WWW-Authenticate')).toContain('error="insufficient_scope"');
    expect(header(result, 'WWW-Authenticate')).toContain('scope="downloads:read"');
    expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
  });

  it.each([['users/bob/a.pdf'], ['private/a.pdf'], ['users/alice']])(
    'answers 403 for %s, outside alice’s prefixes',
    async (key) => {
      // Act
      const result = await handler(event({ key }));

      // Assess
      expectProblem(result, 403);
      expect(header(result, 'WWW-Authenticate')).toBeUndefined();
      expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
    },
  );

  it('does not grant users/{sub}/ to a sub that would climb out of it', async () => {
    // Act
    const result = await handler(
      event({ key: 'users/x/y/a.pdf', authorizer: { sub: 'x/y', scope: 'downloads:read' } }),
    );

    // Assess
    expectProblem(result, 403);
  });
});

describe('storage faults', () => {
  it.each([
    [
      'NotFound (404)',
      () => new NotFound({ message: 'AWS says: Not Found', $metadata: { httpStatusCode: 404 } }),
    ],
    ['403 from S3 (no s3:ListBucket)', () => awsError('Forbidden', 403)],
  ])('answers 404 on %s', async (_, error) => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(error());

    // Act
    const result = await handler(event());

    // Assess
    const problem = expectProblem(result, 404);
    expect(problem.title).toBe('Not Found');
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: 'public/a.pdf' });
  });

  it.each([
    [
      'SlowDown (503)',
      () =>
        new S3ServiceException({
          name: 'SlowDown',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'AWS says: Please reduce your request rate.',
        }),
    ],
    ['429', () => awsError('TooManyRequestsException', 429)],
    ['a timeout', () => awsError('TimeoutError', undefined)],
    ['a reset connection', () => Object.assign(awsError('Error', undefined), { code: 'ECONNRESET' })],
  ])('answers 503 with Retry-After on %s', async (_, error) => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(error());

    // Act
    const result = await handler(event());

    // Assess
    expectProblem(result, 503);
    expect(header(result, 'Retry-After')).toMatch(/^[1-9]\d*$/);
  });

  it.each([
    ['an unknown 400', () => awsError('InvalidArgument', 400)],
    ['301 (the bucket is in another region)', () => awsError('PermanentRedirect', 301)],
  ])('answers 500 without Retry-After on %s: a deployment fault no retry mends', async (_, error) => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(error());

    // Act
    const result = await handler(event());

    // Assess
    const problem = expectProblem(result, 500);
    expect(problem.detail).toBe('an unexpected error occurred');
    expect(header(result, 'Retry-After')).toBeUndefined();
  });

  it('answers 500 with a generic detail when something unexpected breaks', async () => {
    // Prepare
    const broken: Signer = {
      via: 's3',
      sign: () => {
        throw new Error('AWS says: secret internals at arn:aws:kms:us-east-1:123456789012:key/x');
      },
    };
    const brokenHandler = handlerFor(BASE_ENV, { s3: broken });

    // Act
    const result = await brokenHandler(event());

    // Assess
    const problem = expectProblem(result, 500);
    expect(problem.detail).toBe('an unexpected error occurred');
  });
});

describe('what the route logs when it cannot serve', () => {
  function spyingHandler(store: ConstructorParameters<typeof DownloadService>[0]['store'], signer?: Signer) {
    const config = loadConfig(BASE_ENV);
    const spied = new Logger({ logLevel: 'SILENT' });
    const info = vi.spyOn(spied, 'info');
    const error = vi.spyOn(spied, 'error');
    const service = new DownloadService({
      config,
      store,
      signers: { s3: signer ?? handlerSigner(config) },
      now: () => NOW,
    });
    return { handle: createDownloadHandler({ service, logger: spied }), info, error };
  }
  const handlerSigner = (config: ReturnType<typeof loadConfig>) =>
    new S3Signer({
      bucketUrl: bucketUrl(client, config.bucket, config.region),
      region: config.region,
      credentials: CREDENTIALS,
      sha256: client.config.sha256,
      ttlSeconds: config.urlTtlSeconds,
    });

  beforeEach(() => {
    s3.reset();
  });

  it('a 403 from S3 answers 404 and tells ops the S3 error name, without a stack', async () => {
    // Prepare
    const denied = awsError('AccessDenied', 403);
    Object.assign(denied.$metadata, { requestId: 'R3QU35T', extendedRequestId: 'ExT/3nd3d=' });
    s3.on(HeadObjectCommand).rejects(denied);
    const { handle, info } = spyingHandler(new S3ObjectStore(client, BUCKET));

    // Act
    const result = await handle(event({ query: { via: 's3' } }));

    // Assess
    expectProblem(result, 404);
    expect(info).toHaveBeenCalledWith('storage answered 403; answered 404', {
      s3Error: 'AccessDenied',
      s3Status: 403,
      s3RequestId: 'R3QU35T',
      s3ExtendedRequestId: 'ExT/3nd3d=',
    });
  });

  it('a storage answer no retry mends (a wrong region) is logged as an error, with what S3 said', async () => {
    // Prepare
    const moved = awsError('PermanentRedirect', 301);
    Object.assign(moved.$metadata, { requestId: 'R3D1R3CT' });
    s3.on(HeadObjectCommand).rejects(moved);
    const { handle, error } = spyingHandler(new S3ObjectStore(client, BUCKET));

    // Act
    const result = await handle(event({ query: { via: 's3' } }));

    // Assess
    expectProblem(result, 500);
    expect(error).toHaveBeenCalledWith('storage refused the request as configured', {
      s3Error: 'PermanentRedirect',
      s3Status: 301,
      s3RequestId: 'R3D1R3CT',
      s3ExtendedRequestId: undefined,
    });
  });

  it('an unexpected fault answers a bare 500 problem and is logged as an error', async () => {
    // Prepare: a signer that fails the way a bug would, with a Node-style `code`.
    const broken: Signer = {
      via: 's3',
      sign: () => {
        throw Object.assign(new Error('ERR_OSSL secret internals'), { code: 'ERR_OSSL_BAD_DECRYPT' });
      },
    };
    const { handle, error } = spyingHandler(
      { head: async () => ({ size: 1, contentType: undefined, filename: undefined }) },
      broken,
    );

    // Act
    const result = await handle(event({ query: { via: 's3' } }));

    // Assess
    const body = expectProblem(result, 500);
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(error).toHaveBeenCalledWith('download failed', expect.anything());
  });

  it('credentials that cannot be had answer 503 with Retry-After, not 500', async () => {
    // Prepare
    const config = loadConfig(BASE_ENV);
    const signer = new S3Signer({
      bucketUrl: bucketUrl(client, config.bucket, config.region),
      region: config.region,
      credentials: async () => {
        throw new Error('could not load credentials from any providers');
      },
      sha256: client.config.sha256,
      ttlSeconds: config.urlTtlSeconds,
    });
    const { handle } = spyingHandler(
      { head: async () => ({ size: 1, contentType: undefined, filename: undefined }) },
      signer,
    );

    // Act
    const result = await handle(event({ query: { via: 's3' } }));

    // Assess
    expectProblem(result, 503);
    expect(header(result, 'Retry-After')).toBe('5');
  });
});

describe('Accept negotiation', () => {
  beforeEach(() => {
    s3.reset();
    s3.on(HeadObjectCommand).resolves({ ContentLength: 3 });
  });

  it.each([
    ['application/json', 200],
    ['Application/JSON', 200],
    ['application/json, text/plain, */*', 200],
    ['*/*', 302],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 302],
    ['text/html, application/json;q=0', 302],
    ['application/json;q=0', 302],
    ['application/problem+json', 302],
    ['application/json; charset=utf-8', 200],
    ['application/json;charset=UTF-8, */*', 200],
    ['application/json; charset=utf-8; q=0', 302],
    ['application/*', 200],
    ['application/*;q=0.5, text/html;q=0.4', 200],
    ['*/*;q=0.5, application/json', 200],
    ['application/json;q=0.9, */*', 302],
    ['text/plain, application/json;q=0.1', 302],
    ['image/png, application/json;q=0.1', 302],
    ['text/*, application/json', 302],
    ['', 302],
    ['application/*;q=0.9, application/json;q=0', 302],
    ['application/json;foo="a,b";q=0.1, text/html;q=0.5', 302],
    ['application/json;foo="a,b", text/html;q=0.5', 200],
  ])('Accept: %s → %i, with Vary: Accept', async (accept, status) => {
    // Act
    const result = await s3OnlyHandler(event({ headers: { Accept: accept } }));

    // Assess
    expect(result.statusCode).toBe(status);
    expect(header(result, 'Vary')).toBe('Accept');
  });
});
