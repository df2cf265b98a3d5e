import { createHash, createHmac, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdnSigner, readPrivateKey } from '../../api/core/cdn-signer.ts';
import { contentDisposition } from '../../api/core/filename.ts';
import { bucketUrl, clientBucketUrl, S3Signer } from '../../api/core/s3-signer.ts';
import { signingWindow } from '../../api/core/signing.ts';

const REGION = 'us-east-1';
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const TTL = 300;
const STABILITY = 60;
/** 2030-01-01T12:00:00Z, the start of a 60 s window. */
const WINDOW_START = Date.UTC(2030, 0, 1, 12, 0, 0);

/** The SDK's own sha256, as the handler wires it. */
const client = new S3Client({ region: REGION, credentials: CREDENTIALS });
const { sha256 } = client.config;

/** Keys where SigV4 and CloudFront encoding bugs live. */
const KEYS = [
  'public/a.pdf',
  'public/annual report 2024.pdf',
  'public/a+b=c&d$e@f;g:h,i.pdf',
  "public/it's (1)*!~.txt",
  'public/100% done.txt',
  'users/山田/報告書.pdf',
  'users/alice/🎉 party.png',
  'public/quote"back\\slash.txt',
];

const NAMES = [
  'a.pdf',
  'annual report.pdf',
  "it's (1)*.txt",
  '100% "done".txt',
  '報告書.pdf',
  '🎉.png',
  'a;b\\c.txt',
];

function s3Signer(options: { bucket?: string; endpoint?: URL; region?: string } = {}): S3Signer {
  const region = options.region ?? REGION;
  return new S3Signer({
    bucketUrl: bucketUrl(client, options.bucket ?? 'signet-test', region, options),
    region,
    credentials: CREDENTIALS,
    sha256,
    ttlSeconds: TTL,
  });
}

/** RFC 3986 encoding as SigV4 wants it, written independently of the code under test. */
function uriEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Verifies a query-signed SigV4 URL as S3 would: rebuilds the canonical request from the
 * URL it received and recomputes the signature with the secret key.
 */
function sigV4Valid(signedUrl: string, secretAccessKey: string): boolean {
  const url = new URL(signedUrl);
  const params = [...url.searchParams.entries()];
  const signature = url.searchParams.get('X-Amz-Signature');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const [, date = '', region = '', service = ''] = (url.searchParams.get('X-Amz-Credential') ?? '').split(
    '/',
  );
  const canonicalQuery = params
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const signedHeaders = url.searchParams.get('X-Amz-SignedHeaders');
  if (signedHeaders !== 'host') return false;
  const canonicalRequest = [
    'GET',
    url.pathname,
    canonicalQuery,
    `host:${url.host}`,
    '',
    'host',
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  return hmac(signingKey, stringToSign).toString('hex') === signature;
}

/** The URL path decoded segment by segment. */
function decodedPath(url: URL, prefix: string): string {
  expect(url.pathname.startsWith(prefix)).toBe(true);
  return url.pathname.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
}

describe('signingWindow', () => {
  it.each([
    ['at the start of a window', WINDOW_START, WINDOW_START],
    ['1 ms in', WINDOW_START + 1, WINDOW_START],
    ['in the middle', WINDOW_START + 30_500, WINDOW_START],
    ['at the last millisecond', WINDOW_START + 59_999, WINDOW_START],
    ['at the next window', WINDOW_START + 60_000, WINDOW_START + 60_000],
  ])('rounds down %s', (_, now, signedAt) => {
    // Act
    const window = signingWindow(now, TTL, STABILITY);

    // Assess
    expect(window.signedAt.getTime()).toBe(signedAt);
    expect(window.expiresAt.getTime()).toBe(signedAt + TTL * 1000);
  });

  it.each([0, 1, 17_000, 59_999, 60_000, 119_999, 3_599_999])(
    'leaves at least ttl - stability to live, %i ms after a window start',
    (offset) => {
      // Prepare
      const now = WINDOW_START + offset;

      // Act
      const { signedAt, expiresAt } = signingWindow(now, TTL, STABILITY);

      // Assess
      expect(expiresAt.getTime() - now).toBeGreaterThanOrEqual((TTL - STABILITY) * 1000);
      expect(signedAt.getTime()).toBeLessThanOrEqual(now);
      expect(now - signedAt.getTime()).toBeLessThan(STABILITY * 1000);
    },
  );

  it('gives the same window to every request inside it', () => {
    // Act
    const first = signingWindow(WINDOW_START + 5_000, TTL, STABILITY);
    const second = signingWindow(WINDOW_START + 55_000, TTL, STABILITY);

    // Assess
    expect(second).toEqual(first);
  });

  it('aligns windows on the epoch, not on whole minutes, for odd sizes', () => {
    // Act
    const window = signingWindow(1_000_000_123, 600, 7);

    // Assess
    expect((window.signedAt.getTime() / 1000) % 7).toBe(0);
    expect(window.signedAt.getTime()).toBe(999_999 * 1000);
  });
});

describe('S3Signer', () => {
  const window = signingWindow(WINDOW_START + 12_345, TTL, STABILITY);
  const disposition = contentDisposition('attachment', 'annual report.pdf');

  it.each(KEYS)('signs %j with a signature S3 would accept', async (key) => {
    // Act
    const signed = await s3Signer().sign({ key, contentDisposition: disposition }, window);

    // Assess
    const url = new URL(signed);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('signet-test.s3.us-east-1.amazonaws.com');
    expect(decodedPath(url, '/')).toBe(key);
    expect(url.pathname).toMatch(/^[A-Za-z0-9\-._~%/]+$/);
    expect(sigV4Valid(signed, CREDENTIALS.secretAccessKey)).toBe(true);
  });

  it.each(NAMES)('carries the Content-Disposition for %j exactly', async (name) => {
    // Prepare
    const header = contentDisposition('inline', name);

    // Act
    const signed = await s3Signer().sign({ key: 'public/a.pdf', contentDisposition: header }, window);

    // Assess
    const url = new URL(signed);
    expect(url.searchParams.get('response-content-disposition')).toBe(header);
    expect(url.search).not.toMatch(/[ "'()*!]/);
    expect(sigV4Valid(signed, CREDENTIALS.secretAccessKey)).toBe(true);
  });

  it('signs for the window start and the TTL', async () => {
    // Act
    const signed = await s3Signer().sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);

    // Assess
    const params = new URL(signed).searchParams;
    expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(params.get('X-Amz-Date')).toBe('20300101T120000Z');
    expect(params.get('X-Amz-Expires')).toBe(String(TTL));
    expect(params.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20300101/us-east-1/s3/aws4_request');
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
  });

  it('gives the very same URL for the same input in the same window', async () => {
    // Prepare
    const signer = s3Signer();
    const input = { key: 'users/alice/a b.pdf', contentDisposition: disposition };

    // Act
    const first = await signer.sign(input, signingWindow(WINDOW_START + 1_000, TTL, STABILITY));
    const second = await signer.sign(input, signingWindow(WINDOW_START + 59_000, TTL, STABILITY));

    // Assess
    expect(second).toBe(first);
  });

  it('gives another URL in the next window', async () => {
    // Prepare
    const signer = s3Signer();
    const input = { key: 'users/alice/a b.pdf', contentDisposition: disposition };

    // Act
    const first = await signer.sign(input, signingWindow(WINDOW_START + 59_999, TTL, STABILITY));
    const second = await signer.sign(input, signingWindow(WINDOW_START + 60_000, TTL, STABILITY));

    // Assess
    expect(second).not.toBe(first);
    expect(new URL(second).searchParams.get('X-Amz-Date')).toBe('20300101T120100Z');
  });

  it.each([
    [
      'a dotted bucket (path-style)',
      { bucket: 'my.dotted.bucket' },
      'https:',
      's3.us-east-1.amazonaws.com',
      '/my.dotted.bucket/',
    ],
    [
      'a custom endpoint (path-style)',
      { endpoint: new URL('http://127.0.0.1:9000') },
      'http:',
      '127.0.0.1:9000',
      '/signet-test/',
    ],
    [
      'a custom https endpoint',
      { endpoint: new URL('https://s3.internal.example') },
      'https:',
      's3.internal.example',
      '/signet-test/',
    ],
  ])('signs for %s', async (_, options, protocol, host, prefix) => {
    // Act
    const signed = await s3Signer(options).sign(
      { key: "public/it's a+b.pdf", contentDisposition: disposition },
      window,
    );

    // Assess
    const url = new URL(signed);
    expect(url.protocol).toBe(protocol);
    expect(url.host).toBe(host);
    expect(decodedPath(url, prefix)).toBe("public/it's a+b.pdf");
    expect(sigV4Valid(signed, CREDENTIALS.secretAccessKey)).toBe(true);
  });

  it.each([
    ['us-east-1', 'signet-test.s3.us-east-1.amazonaws.com'],
    ['cn-north-1', 'signet-test.s3.cn-north-1.amazonaws.com.cn'],
    ['us-gov-west-1', 'signet-test.s3.us-gov-west-1.amazonaws.com'],
    ['eusc-de-east-1', 'signet-test.s3.eusc-de-east-1.amazonaws.eu'],
    ['us-iso-east-1', 'signet-test.s3.us-iso-east-1.c2s.ic.gov'],
  ])(
    'signs for the host of the region partition (%s), the one the SDK itself signs for',
    async (region, host) => {
      // Prepare
      const sdk = new S3Client({ region, credentials: CREDENTIALS });

      // Act
      const signed = await s3Signer({ region }).sign(
        { key: 'public/a.pdf', contentDisposition: disposition },
        window,
      );
      const bySdk = await getSignedUrl(
        sdk,
        new GetObjectCommand({ Bucket: 'signet-test', Key: 'public/a.pdf' }),
      );

      // Assess
      const url = new URL(signed);
      expect(url.host).toBe(host);
      expect(new URL(bySdk).host).toBe(host);
      expect(url.searchParams.get('X-Amz-Credential')).toBe(`AKIDEXAMPLE/20300101/${region}/s3/aws4_request`);
      expect(sigV4Valid(signed, CREDENTIALS.secretAccessKey)).toBe(true);
      sdk.destroy();
    },
  );

  it.each([
    ['FIPS', { useFipsEndpoint: true }, 'signet-test.s3-fips.us-gov-west-1.amazonaws.com'],
    ['dual-stack', { useDualstackEndpoint: true }, 'signet-test.s3.dualstack.us-gov-west-1.amazonaws.com'],
  ])(
    'signs for the %s endpoint when the S3 client is set to use it, as the SDK does',
    async (_, setting, host) => {
      // Prepare
      const sdk = new S3Client({ region: 'us-gov-west-1', credentials: CREDENTIALS, ...setting });
      const signer = new S3Signer({
        bucketUrl: await clientBucketUrl(sdk, 'signet-test', 'us-gov-west-1'),
        region: 'us-gov-west-1',
        credentials: CREDENTIALS,
        sha256,
        ttlSeconds: TTL,
      });

      // Act
      const signed = await signer.sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);
      const bySdk = await getSignedUrl(
        sdk,
        new GetObjectCommand({ Bucket: 'signet-test', Key: 'public/a.pdf' }),
      );

      // Assess
      expect(new URL(signed).host).toBe(host);
      expect(new URL(bySdk).host).toBe(host);
      expect(sigV4Valid(signed, CREDENTIALS.secretAccessKey)).toBe(true);
      sdk.destroy();
    },
  );

  it('carries only the standard SigV4 parameters for long-term credentials', async () => {
    // Act
    const signed = await s3Signer().sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);

    // Assess
    expect([...new URL(signed).searchParams.keys()].sort()).toEqual(
      [
        'X-Amz-Algorithm',
        'X-Amz-Content-Sha256',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Expires',
        'X-Amz-Signature',
        'X-Amz-SignedHeaders',
        'response-content-disposition',
      ].sort(),
    );
    expect(signed).not.toContain('undefined');
  });

  it('signs with temporary credentials (as on Lambda): the session token rides as X-Amz-Security-Token', async () => {
    // Prepare
    const temporary = {
      accessKeyId: 'ASIATEMPORARY',
      secretAccessKey: 'temporary-secret',
      sessionToken: 'IQoJb3JpZ2luX2VjE+session/token==',
      expiration: new Date(WINDOW_START + 6 * 3600_000),
    };
    let calls = 0;
    const signer = new S3Signer({
      bucketUrl: bucketUrl(client, 'signet-test', REGION),
      region: REGION,
      credentials: async () => {
        calls += 1;
        return temporary;
      },
      sha256,
      ttlSeconds: TTL,
    });

    // Act
    const signed = await signer.sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);
    // The second URL reuses the encoded token: it must still read back as the token.
    const again = await signer.sign({ key: 'public/b.pdf', contentDisposition: disposition }, window);

    // Assess
    for (const url of [signed, again]) {
      const params = new URL(url).searchParams;
      expect(params.get('X-Amz-Security-Token')).toBe(temporary.sessionToken);
      expect(params.get('X-Amz-Credential')).toBe('ASIATEMPORARY/20300101/us-east-1/s3/aws4_request');
      expect(params.has('X-Amz-S3session-Token')).toBe(false);
      expect(sigV4Valid(url, temporary.secretAccessKey)).toBe(true);
    }
    expect(new URL(again).pathname).toBe('/public/b.pdf');
    expect(calls).toBe(1);
  });

  it.each([
    ['before the URL', 120, 2],
    ['within the 60 s margin after it', TTL + 30, 2],
    ['past the margin', TTL + 90, 1],
  ])('asks the provider again only when the credentials would die %s', async (_, lifeSeconds, asked) => {
    // Prepare: a URL lives TTL; its credentials must outlive it by a margin for clock skew.
    const identities = ['first', 'second'].map((name) => ({
      accessKeyId: `ASIA${name.toUpperCase()}`,
      secretAccessKey: `${name}-secret`,
      sessionToken: `${name}-token`,
      expiration: new Date(Date.now() + lifeSeconds * 1000),
    }));
    let calls = 0;
    const signer = new S3Signer({
      bucketUrl: bucketUrl(client, 'signet-test', REGION),
      region: REGION,
      credentials: async () => identities[Math.min(calls++, 1)] ?? CREDENTIALS,
      sha256,
      ttlSeconds: TTL,
    });

    // Act
    const first = await signer.sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);
    const second = await signer.sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);

    // Assess
    expect(calls).toBe(asked);
    const secondName = asked === 2 ? 'second' : 'first';
    expect(new URL(second).searchParams.get('X-Amz-Security-Token')).toBe(`${secondName}-token`);
    expect(sigV4Valid(first, 'first-secret')).toBe(true);
    expect(sigV4Valid(second, `${secondName}-secret`)).toBe(true);
  });

  it.each([
    ['another key', (url: URL) => url.pathname.replace('a.pdf', 'b.pdf')],
    ['another filename', (url: URL) => url.search.replace('annual', 'annuel')],
    ['a longer life', (url: URL) => url.search.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000')],
  ])('is rejected by the verifier once tampered with: %s', async (_, tamper) => {
    // Prepare
    const signed = await s3Signer().sign({ key: 'public/a.pdf', contentDisposition: disposition }, window);
    const url = new URL(signed);
    const changed = tamper(url);
    const tampered = changed.startsWith('?')
      ? `${url.origin}${url.pathname}${changed}`
      : `${url.origin}${changed}${url.search}`;

    // Act
    const valid = sigV4Valid(tampered, CREDENTIALS.secretAccessKey);

    // Assess
    expect(tampered).not.toBe(signed);
    expect(valid).toBe(false);
    expect(sigV4Valid(signed, 'another-secret')).toBe(false);
  });
});

describe('CdnSigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const window = signingWindow(WINDOW_START + 42_000, TTL, STABILITY);
  const disposition = contentDisposition('attachment', "it's (1)*.pdf");

  function cdnSigner(key: KeyObject = privateKey): CdnSigner {
    return new CdnSigner({
      origin: new URL('https://d111.cloudfront.net'),
      keyPairId: 'K1',
      privateKey: key,
    });
  }

  /** Verifies a canned-policy CloudFront URL as CloudFront would. */
  function cloudFrontValid(signedUrl: string, key: KeyObject): boolean {
    const [base = '', query = ''] = signedUrl.split('?');
    const pairs = query.split('&');
    const value = (name: string) => pairs.find((pair) => pair.startsWith(`${name}=`))?.slice(name.length + 1);
    const expires = Number(value('Expires'));
    const signature = value('Signature') ?? '';
    const kept = pairs.filter((pair) => !/^(Expires|Signature|Key-Pair-Id)=/.test(pair));
    const resource = kept.length > 0 ? `${base}?${kept.join('&')}` : base;
    const policy = JSON.stringify({
      Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }],
    });
    const raw = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    return verify('RSA-SHA1', Buffer.from(policy, 'utf8'), key, raw);
  }

  it.each(KEYS)('signs %j with a canned policy CloudFront would accept', (key) => {
    // Act
    const signed = cdnSigner().sign({ key, contentDisposition: disposition }, window);

    // Assess
    const url = new URL(signed);
    expect(url.origin).toBe('https://d111.cloudfront.net');
    expect(decodedPath(url, '/files/')).toBe(key);
    expect(url.searchParams.get('response-content-disposition')).toBe(disposition);
    expect(url.searchParams.get('Expires')).toBe(String(window.expiresAt.getTime() / 1000));
    expect(url.searchParams.get('Key-Pair-Id')).toBe('K1');
    expect([...url.searchParams.keys()].sort()).toEqual(
      ['Expires', 'Key-Pair-Id', 'Signature', 'response-content-disposition'].sort(),
    );
    // The order the contract writes: response-content-disposition, Expires, Signature, Key-Pair-Id.
    expect(signed).toMatch(
      /^https:\/\/d111\.cloudfront\.net\/files\/[^?]+\?response-content-disposition=[^&]+&Expires=\d+&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=K1$/,
    );
    expect(signed).not.toMatch(/[\s"<>\\]/);
    expect(cloudFrontValid(signed, publicKey)).toBe(true);
  });

  it.each(NAMES)('carries the Content-Disposition for %j exactly', (name) => {
    // Prepare
    const header = contentDisposition('attachment', name);

    // Act
    const signed = cdnSigner().sign({ key: 'public/a.pdf', contentDisposition: header }, window);

    // Assess
    expect(new URL(signed).searchParams.get('response-content-disposition')).toBe(header);
    expect(cloudFrontValid(signed, publicKey)).toBe(true);
  });

  it('gives the very same URL within a window and another in the next', () => {
    // Prepare
    const signer = cdnSigner();
    const input = { key: 'public/a b.pdf', contentDisposition: disposition };

    // Act
    const first = signer.sign(input, signingWindow(WINDOW_START, TTL, STABILITY));
    const again = signer.sign(input, signingWindow(WINDOW_START + 59_999, TTL, STABILITY));
    const next = signer.sign(input, signingWindow(WINDOW_START + 60_000, TTL, STABILITY));

    // Assess
    expect(again).toBe(first);
    expect(next).not.toBe(first);
    expect(new URL(next).searchParams.get('Expires')).toBe(String(WINDOW_START / 1000 + 60 + TTL));
  });

  it.each([
    ['another key', (signed: string) => signed.replace('/files/public/a.pdf', '/files/public/b.pdf')],
    ['another filename', (signed: string) => signed.replace('annual', 'annuel')],
    [
      'a later expiry',
      (signed: string) => signed.replace(/Expires=(\d+)/, (_, n: string) => `Expires=${Number(n) + 3600}`),
    ],
  ])('is rejected by the verifier once tampered with: %s', (_, tamper) => {
    // Prepare
    const signed = cdnSigner().sign(
      { key: 'public/a.pdf', contentDisposition: contentDisposition('attachment', 'annual.pdf') },
      window,
    );

    // Act
    const tampered = tamper(signed);

    // Assess
    expect(tampered).not.toBe(signed);
    expect(cloudFrontValid(tampered, publicKey)).toBe(false);
    expect(cloudFrontValid(signed, other.publicKey)).toBe(false);
    expect(cloudFrontValid(signed, publicKey)).toBe(true);
  });
});

describe('readPrivateKey: the CloudFront key, read once, refused loudly', () => {
  // A folder of its own for the private keys, removed with everything in it afterwards.
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signet-keys-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;

  it('parses an RSA 2048 PEM into a KeyObject', () => {
    // Prepare
    const file = write('good.pem', pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey));

    // Act
    const key = readPrivateKey(file);

    // Assess
    expect(key.type).toBe('private');
    expect(key.asymmetricKeyType).toBe('rsa');
  });

  it.each([
    ['a missing file', () => join(dir, 'missing.pem')],
    ['a file that is not a key', () => write('junk.pem', 'not a key')],
    ['an EC key', () => write('ec.pem', pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))],
    [
      'an RSA 1024 key',
      () => write('small.pem', pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)),
    ],
    // Pasting the key where its path belongs is a common mistake: the error must not echo it.
    [
      'the key itself in place of its path',
      () => pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    ],
  ])('%s → CONFIG naming SIGNET_CF_PRIVATE_KEY_FILE, never the key', (_name, file) => {
    // Prepare
    const path = file();

    // Act + Assess
    let thrown: unknown;
    try {
      readPrivateKey(path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'CONFIG' });
    expect(String((thrown as Error).message)).toContain('SIGNET_CF_PRIVATE_KEY_FILE');
    expect(String((thrown as Error).message)).not.toContain('PRIVATE KEY-----');
    expect(String((thrown as Error).message)).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
  });
});
