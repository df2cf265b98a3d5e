import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type CloudfrontSignInput, getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { describe, expect, it } from 'vitest';
import { CdnSigner } from '../../api/core/cdn-signer.ts';
import { contentDisposition, type Disposition } from '../../api/core/filename.ts';
import { verifyCloudFrontUrl } from '../../infra/local/cloudfront-url.ts';

const ORIGIN = 'http://127.0.0.1:8080';
const NOW = new Date('2030-01-01T00:00:00Z');
const EXPIRES_AT = new Date(NOW.getTime() + 300_000);
const EXPIRES = EXPIRES_AT.getTime() / 1000;

const first = generateKeyPairSync('rsa', { modulusLength: 2048 });
const second = generateKeyPairSync('rsa', { modulusLength: 2048 });
const outsider = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEYS: ReadonlyMap<string, KeyObject> = new Map([
  ['K1FIRST', first.publicKey],
  ['K2SECOND', second.publicKey],
]);

const DISPOSITION = contentDisposition('attachment', 'report final.pdf');
const URL_TO_SIGN = `${ORIGIN}/files/docs/report%20final.pdf?response-content-disposition=${encodeURIComponent(DISPOSITION)}`;

interface SignOptions {
  readonly url?: string;
  readonly keyPairId?: string;
  readonly privateKey?: KeyObject;
  readonly algorithm?: 'SHA1' | 'SHA256';
  readonly policy?: string;
  readonly dateLessThan?: Date;
  readonly dateGreaterThan?: Date;
  readonly ipAddress?: string;
}

/** Signs with the real signer and returns what a client sends: the raw target after the origin. */
function signTarget(options: SignOptions = {}): string {
  const credentials = {
    url: options.url ?? URL_TO_SIGN,
    keyPairId: options.keyPairId ?? 'K1FIRST',
    privateKey: (options.privateKey ?? first.privateKey) as unknown as string,
    ...(options.algorithm === undefined ? {} : { algorithm: options.algorithm }),
  };
  const input: CloudfrontSignInput =
    options.policy === undefined
      ? {
          ...credentials,
          dateLessThan: options.dateLessThan ?? EXPIRES_AT,
          ...(options.dateGreaterThan === undefined ? {} : { dateGreaterThan: options.dateGreaterThan }),
          ...(options.ipAddress === undefined ? {} : { ipAddress: options.ipAddress }),
        }
      : { ...credentials, policy: options.policy };
  const signed = getSignedUrl(input);
  expect(signed.startsWith(ORIGIN)).toBe(true);
  return signed.slice(ORIGIN.length);
}

function verifyAt(rawPath: string, now = NOW, clientIp?: string) {
  return verifyCloudFrontUrl({ origin: ORIGIN, rawPath, keys: KEYS, now, clientIp });
}

/** Replaces the raw value of query parameter `name`. */
function withParam(rawPath: string, name: string, value: string): string {
  return rawPath.replace(new RegExp(`([?&]${name}=)[^&]*`), `$1${value}`);
}

/** Removes query parameter `name`. */
function withoutParam(rawPath: string, name: string): string {
  return rawPath.replace(new RegExp(`&${name}=[^&]*`), '');
}

function customPolicy(resource: string | undefined, condition: Record<string, unknown>): string {
  return JSON.stringify({
    Statement: [{ ...(resource === undefined ? {} : { Resource: resource }), Condition: condition }],
  });
}

function flip(signature: string): string {
  const index = 10;
  return `${signature.slice(0, index)}${signature[index] === 'A' ? 'B' : 'A'}${signature.slice(index + 1)}`;
}

describe('canned policy', () => {
  it.each([
    ['SHA1', undefined],
    ['SHA256', 'SHA256'],
  ] as const)('accepts a URL signed with %s and strips the signing parameters', (_, algorithm) => {
    // Prepare
    const target = signTarget(algorithm === undefined ? {} : { algorithm });

    // Act
    const result = verifyAt(target);

    // Assess
    expect(target).toContain(algorithm === undefined ? '&Expires=' : '&Hash-Algorithm=SHA256');
    expect(result).toEqual({
      ok: true,
      path: '/files/docs/report%20final.pdf',
      query: `response-content-disposition=${encodeURIComponent(DISPOSITION).replace(/'/g, '%27')}`,
    });
  });

  it('accepts a URL signed by the second key of the key group', () => {
    // Prepare
    const target = signTarget({ keyPairId: 'K2SECOND', privateKey: second.privateKey });

    // Act
    const result = verifyAt(target);

    // Assess
    expect(result).toMatchObject({ ok: true, path: '/files/docs/report%20final.pdf' });
  });

  it('accepts a URL without a query of its own', () => {
    // Prepare
    const target = signTarget({ url: `${ORIGIN}/files/plain.txt` });

    // Act
    const result = verifyAt(target);

    // Assess
    expect(result).toEqual({ ok: true, path: '/files/plain.txt', query: '' });
  });

  it.each<[string, (target: string) => string, string]>([
    ['another path', (t) => t.replace('/report%20final.pdf', '/report%20other.pdf'), 'BadSignature'],
    ['another folder', (t) => t.replace('/files/docs/', '/files/private/'), 'BadSignature'],
    ['the path re-encoded', (t) => t.replace('report%20final', 'report%2520final'), 'BadSignature'],
    ['the path with lowercase escapes', (t) => t.replace('/files/docs/', '/files/%64ocs/'), 'BadSignature'],
    ['another disposition', (t) => t.replace('=attachment%3B', '=inline%3B'), 'BadSignature'],
    ['an added parameter', (t) => `${t}&x=1`, 'BadSignature'],
    ['an added parameter first', (t) => t.replace('?', '?x=1&'), 'BadSignature'],
    ['the disposition removed', (t) => t.replace(/response-content-disposition=[^&]*&/, ''), 'BadSignature'],
    ['a later Expires', (t) => withParam(t, 'Expires', String(EXPIRES + 1)), 'BadSignature'],
    ['Expires removed', (t) => withoutParam(t, 'Expires'), 'MissingKey'],
    ['Expires not a number', (t) => withParam(t, 'Expires', '1e10'), 'MalformedSignature'],
    ['Expires twice', (t) => `${t}&Expires=${EXPIRES}`, 'MalformedSignature'],
    ['Expires with 11 digits', (t) => withParam(t, 'Expires', '10000000000'), 'MalformedSignature'],
    [
      'a changed Signature',
      (t) => withParam(t, 'Signature', flip(/Signature=([^&]*)/.exec(t)?.[1] ?? '')),
      'BadSignature',
    ],
    [
      'a truncated Signature',
      (t) => withParam(t, 'Signature', (/Signature=([^&]*)/.exec(t)?.[1] ?? '').slice(0, 40)),
      'BadSignature',
    ],
    ['a Signature in plain base64', (t) => withParam(t, 'Signature', 'ab+/cd=='), 'MalformedSignature'],
    ['an empty Signature', (t) => withParam(t, 'Signature', ''), 'MalformedSignature'],
    ['Signature removed', (t) => withoutParam(t, 'Signature'), 'MissingKey'],
    ['another known Key-Pair-Id', (t) => withParam(t, 'Key-Pair-Id', 'K2SECOND'), 'BadSignature'],
    ['an unknown Key-Pair-Id', (t) => withParam(t, 'Key-Pair-Id', 'K3UNKNOWN'), 'UnknownKey'],
    ['Key-Pair-Id removed', (t) => withoutParam(t, 'Key-Pair-Id'), 'MissingKey'],
    ['Hash-Algorithm=SHA256 added', (t) => `${t}&Hash-Algorithm=SHA256`, 'BadSignature'],
    ['an unsupported Hash-Algorithm', (t) => `${t}&Hash-Algorithm=MD5`, 'MalformedSignature'],
    ['Hash-Algorithm=constructor', (t) => `${t}&Hash-Algorithm=constructor`, 'MalformedSignature'],
    ['Hash-Algorithm=__proto__', (t) => `${t}&Hash-Algorithm=__proto__`, 'MalformedSignature'],
    ['Hash-Algorithm=toString', (t) => `${t}&Hash-Algorithm=toString`, 'MalformedSignature'],
    ['a Policy added', (t) => `${t}&Policy=e30_`, 'MalformedSignature'],
    ['no query at all', (t) => t.slice(0, t.indexOf('?')), 'MissingKey'],
  ])('rejects %s', (_, tamper, code) => {
    // Prepare
    const target = tamper(signTarget());

    // Act
    const result = verifyAt(target);

    // Assess
    expect(result).toMatchObject({ ok: false, code });
  });

  it.each([
    ['SHA1', undefined],
    ['SHA256', 'SHA256'],
  ] as const)('rejects removing Hash-Algorithm from a %s URL when it was SHA256', (_, algorithm) => {
    // Prepare
    const target = withoutParam(signTarget({ algorithm: 'SHA256' }), 'Hash-Algorithm');

    // Act
    const result = verifyAt(algorithm === undefined ? target : `${target}&Hash-Algorithm=SHA256`);

    // Assess
    expect(result).toMatchObject(
      algorithm === undefined ? { ok: false, code: 'BadSignature' } : { ok: true },
    );
  });

  it('rejects a URL signed by a key outside the key group under a known id', () => {
    // Prepare
    const target = signTarget({ privateKey: outsider.privateKey });

    // Act
    const result = verifyAt(target);

    // Assess
    expect(result).toMatchObject({ ok: false, code: 'BadSignature' });
  });

  it('rejects a URL checked against another origin', () => {
    // Prepare
    const target = signTarget();

    // Act
    const result = verifyCloudFrontUrl({
      origin: 'http://127.0.0.1:9090',
      rawPath: target,
      keys: KEYS,
      now: NOW,
    });

    // Assess
    expect(result).toMatchObject({ ok: false, code: 'BadSignature' });
  });

  it('ignores a trailing slash on the origin', () => {
    // Prepare
    const target = signTarget();

    // Act
    const result = verifyCloudFrontUrl({ origin: `${ORIGIN}/`, rawPath: target, keys: KEYS, now: NOW });

    // Assess
    expect(result).toMatchObject({ ok: true });
  });

  it.each([
    ['a second before expiry', true, EXPIRES_AT.getTime() - 1000],
    ['a millisecond before expiry', true, EXPIRES_AT.getTime() - 1],
    ['at expiry', false, EXPIRES_AT.getTime()],
    ['after expiry', false, EXPIRES_AT.getTime() + 60_000],
  ])('%s, the URL is valid: %s', (_, valid, nowMillis) => {
    // Prepare
    const target = signTarget();

    // Act
    const result = verifyAt(target, new Date(nowMillis));

    // Assess
    expect(result).toMatchObject(valid ? { ok: true } : { ok: false, code: 'Expired' });
  });

  it.each([
    ['2038-01-19T03:14:07Z, the last second of 32 bits', new Date(2 ** 31 * 1000 - 1000), true],
    ['a second later', new Date(2 ** 31 * 1000), false],
    ['2100', new Date('2100-01-01T00:00:00Z'), false],
  ])('with a canned policy signed to end at %s, accepts it: %s', (_, dateLessThan, accepted) => {
    // Prepare: AWS takes "a 32-bit integer for a date that's no later than 2147483647".
    const target = signTarget({ dateLessThan });

    // Act
    const result = verifyAt(target);

    // Assess
    expect(target).toContain(`Expires=${dateLessThan.getTime() / 1000}&`);
    expect(result).toMatchObject(accepted ? { ok: true } : { ok: false, code: 'MalformedSignature' });
  });
});

describe('custom policy', () => {
  const reports = `${ORIGIN}/files/reports/*`;

  it.each([
    ['/files/reports/2024/q1.pdf?response-content-disposition=attachment', true],
    ['/files/reports/other.pdf', true],
    ['/files/reports/', true],
    ['/files/private/secret.pdf', false],
    ['/files/reportsX/a.pdf', false],
  ])('matches a wildcard Resource against %s: %s', (path, covered) => {
    // Prepare
    const policy = customPolicy(reports, { DateLessThan: { 'AWS:EpochTime': EXPIRES } });
    const signed = signTarget({ url: `${ORIGIN}/files/reports/2024/q1.pdf`, policy });
    const signingParams = signed.slice(signed.indexOf('?') + 1);
    const target = `${path}${path.includes('?') ? '&' : '?'}${signingParams}`;

    // Act
    const result = verifyAt(target);

    // Assess
    expect(signingParams).toMatch(/^Policy=[A-Za-z0-9~_-]+&Key-Pair-Id=K1FIRST&Signature=/);
    expect(result).toMatchObject(
      covered
        ? { ok: true, path: path.split('?')[0], query: path.split('?')[1] ?? '' }
        : { ok: false, code: 'ResourceMismatch' },
    );
  });

  it.each([
    ['/files/v1.txt', true],
    ['/files/v10.txt', false],
    ['/files/v.txt', false],
  ])('matches "?" as exactly one character: %s %s', (path, covered) => {
    // Prepare
    const policy = customPolicy(`${ORIGIN}/files/v?.txt`, { DateLessThan: { 'AWS:EpochTime': EXPIRES } });
    const signed = signTarget({ url: `${ORIGIN}/files/v1.txt`, policy });

    // Act
    const result = verifyAt(`${path}${signed.slice(signed.indexOf('?'))}`);

    // Assess
    expect(result).toMatchObject(covered ? { ok: true } : { ok: false, code: 'ResourceMismatch' });
  });

  it('covers every URL when the policy has no Resource, as CloudFront does', () => {
    // Prepare
    const policy = customPolicy(undefined, { DateLessThan: { 'AWS:EpochTime': EXPIRES } });
    const signed = signTarget({ url: `${ORIGIN}/files/a.txt`, policy });

    // Act
    const result = verifyAt(`/files/anything/else.bin${signed.slice(signed.indexOf('?'))}`);

    // Assess
    expect(result).toMatchObject({ ok: true, path: '/files/anything/else.bin' });
  });

  it.each([
    ['before DateGreaterThan', -1, 'NotYetValid'],
    ['at DateGreaterThan', 0, undefined],
    ['after DateGreaterThan', 1, undefined],
  ])('with a start time, %s', (_, offsetMillis, code) => {
    // Prepare
    const start = new Date(NOW.getTime() + 60_000);
    const target = signTarget({ dateGreaterThan: start });

    // Act
    const result = verifyAt(target, new Date(start.getTime() + offsetMillis));

    // Assess
    expect(target).toContain('?response-content-disposition=');
    expect(target).toContain('&Policy=');
    expect(result).toMatchObject(code === undefined ? { ok: true } : { ok: false, code });
  });

  it('rejects an expired custom policy', () => {
    // Prepare
    const target = signTarget({ dateGreaterThan: new Date(NOW.getTime() - 60_000) });

    // Act
    const result = verifyAt(target, EXPIRES_AT);

    // Assess
    expect(result).toMatchObject({ ok: false, code: 'Expired' });
  });

  it.each([
    ['203.0.113.0/24', '203.0.113.7', true],
    ['203.0.113.0/24', '::ffff:203.0.113.250', true],
    ['203.0.113.0/24', '203.0.114.7', false],
    ['203.0.113.7', '203.0.113.7', true],
    ['203.0.113.7', '203.0.113.8', false],
    ['0.0.0.0/0', '198.51.100.1', true],
    ['203.0.113.0/24', undefined, false],
    ['203.0.113.0/24', '2001:db8::1', false],
  ])('with AWS:SourceIp %s, viewer %s is allowed: %s', (cidr, clientIp, allowed) => {
    // Prepare
    const target = signTarget({ ipAddress: cidr, algorithm: 'SHA256' });

    // Act
    const result = verifyAt(target, NOW, clientIp);

    // Assess
    expect(result).toMatchObject(allowed ? { ok: true } : { ok: false, code: 'IpMismatch' });
  });

  it('rejects a policy rewritten without re-signing', () => {
    // Prepare
    const target = signTarget({ dateGreaterThan: new Date(NOW.getTime() + 60_000) });
    const encoded = /Policy=([^&]*)/.exec(target)?.[1] ?? '';
    const json = Buffer.from(
      encoded.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'),
      'base64',
    ).toString();
    const earlier = json.replace(
      /"DateGreaterThan":\{"AWS:EpochTime":\d+\}/,
      '"DateGreaterThan":{"AWS:EpochTime":1}',
    );
    const forged = Buffer.from(earlier)
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/=/g, '_')
      .replace(/\//g, '~');

    // Act
    const result = verifyAt(withParam(target, 'Policy', forged));

    // Assess
    expect(earlier).not.toBe(json);
    expect(result).toMatchObject({ ok: false, code: 'BadSignature' });
  });

  it.each([
    ['no DateLessThan', customPolicy(`${ORIGIN}/*`, {})],
    [
      'a DateLessThan past 32 bits',
      customPolicy(`${ORIGIN}/*`, { DateLessThan: { 'AWS:EpochTime': 2 ** 31 } }),
    ],
    [
      'a DateGreaterThan past 32 bits',
      customPolicy(`${ORIGIN}/*`, {
        DateLessThan: { 'AWS:EpochTime': EXPIRES },
        DateGreaterThan: { 'AWS:EpochTime': 2 ** 31 },
      }),
    ],
    ['no Condition', JSON.stringify({ Statement: [{ Resource: `${ORIGIN}/*` }] })],
    [
      'the Condition in an array',
      JSON.stringify({
        Statement: [{ Resource: `${ORIGIN}/*`, Condition: [{ DateLessThan: { 'AWS:EpochTime': EXPIRES } }] }],
      }),
    ],
    ['the statement a string', JSON.stringify({ Statement: ['*'] })],
    // An IpAddress in another shape than AWS documents would drop the restriction if read
    // as absent: refused.
    ...[
      ['a string', '10.0.0.0/8'],
      ['an array', [{ 'AWS:SourceIp': '10.0.0.0/8' }]],
      ['null', null],
      ['empty', {}],
      ['AWS:SourceIp an array', { 'AWS:SourceIp': ['10.0.0.0/8'] }],
    ].map(([shape, ipAddress]) => [
      `an IpAddress that is ${shape}`,
      customPolicy(`${ORIGIN}/*`, { DateLessThan: { 'AWS:EpochTime': EXPIRES }, IpAddress: ipAddress }),
    ]),
    [
      'a DateLessThan in milliseconds as a string',
      customPolicy(`${ORIGIN}/*`, { DateLessThan: { 'AWS:EpochTime': 'soon' } }),
    ],
    ['two statements', JSON.stringify({ Statement: [{ Resource: '*' }, { Resource: '*' }] })],
    ['no JSON', 'not json'],
    // A misspelt name would drop a restriction: refused, as AWS takes names only as written.
    [
      'a misspelt IpAddress',
      customPolicy(`${ORIGIN}/*`, {
        DateLessThan: { 'AWS:EpochTime': EXPIRES },
        IpAddres: { 'AWS:SourceIp': '10.0.0.0/8' },
      }),
    ],
    [
      'AWS:SourceIP in the wrong case',
      customPolicy(`${ORIGIN}/*`, {
        DateLessThan: { 'AWS:EpochTime': EXPIRES },
        IpAddress: { 'AWS:SourceIP': '10.0.0.0/8' },
      }),
    ],
    [
      'a misspelt DateGreaterThan',
      customPolicy(`${ORIGIN}/*`, {
        DateLessThan: { 'AWS:EpochTime': EXPIRES },
        DateGreaterthan: { 'AWS:EpochTime': EXPIRES - 10 },
      }),
    ],
    [
      'another name beside AWS:EpochTime',
      customPolicy(`${ORIGIN}/*`, {
        DateLessThan: { 'AWS:EpochTime': EXPIRES, 'AWS:SourceIp': '10.0.0.0/8' },
      }),
    ],
    [
      'a name the statement does not know',
      JSON.stringify({
        Statement: [
          {
            Resource: `${ORIGIN}/*`,
            Effect: 'Deny',
            Condition: { DateLessThan: { 'AWS:EpochTime': EXPIRES } },
          },
        ],
      }),
    ],
    [
      'a name the policy does not know',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Resource: `${ORIGIN}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': EXPIRES } } }],
      }),
    ],
    [
      'a malformed AWS:SourceIp',
      customPolicy(`${ORIGIN}/*`, {
        DateLessThan: { 'AWS:EpochTime': EXPIRES },
        IpAddress: { 'AWS:SourceIp': '300.1.1.1/8' },
      }),
    ],
  ])('rejects a signed policy with %s', (_, policy) => {
    // Prepare
    const target = signTarget({ url: `${ORIGIN}/files/a.txt`, policy });

    // Act
    const result = verifyAt(target, NOW, '203.0.113.7');

    // Assess
    expect(result).toMatchObject({ ok: false, code: 'MalformedSignature' });
  });
});

describe('URLs from CdnSigner', () => {
  const signer = new CdnSigner({
    origin: new URL(ORIGIN),
    keyPairId: 'K2SECOND',
    privateKey: second.privateKey,
  });
  const window = { signedAt: NOW, expiresAt: EXPIRES_AT };

  it.each<[string, string, Disposition]>([
    ['docs/report final.pdf', 'report final.pdf', 'attachment'],
    [`quotes/"double" 'single'.txt`, `"double" & 'single'.txt`, 'attachment'],
    ['stars/*.txt', 'a*b**.txt', 'inline'],
    ["it's/(1) [2] {3} !~.txt", "it's (1) [2] {3} !~.txt", 'attachment'],
    ['percent/100%.txt', '100% sure %20 %2F %zz.txt', 'attachment'],
    ['symbols/+ = & $ @ ; :.bin', '+ = & $ @ ; : , #1 ?.bin', 'attachment'],
    ['emoji/😀🎉.png', '😀 party 🎉.png', 'inline'],
    ['cjk/報告書.pdf', '報告書 2024年 第1四半期.pdf', 'attachment'],
    ['accents/été.txt', 'Ångström é\u0301te\u0301.txt', 'attachment'],
    ['back\\slash/a\\b.txt', 'a\\b.txt', 'attachment'],
    ['deep/a/b/c/d/e/f.txt', 'f.txt', 'attachment'],
    [`long/${'n'.repeat(300)}.txt`, `${'x'.repeat(300)}.txt`, 'attachment'],
    [`long/${'名'.repeat(300)}.txt`, `${'名'.repeat(300)}.txt`, 'attachment'],
    [`long/${'😀'.repeat(150)}.txt`, `${'😀'.repeat(300)}.txt`, 'inline'],
  ])('verifies key %s with filename %s', (key, name, disposition) => {
    // Prepare
    const value = contentDisposition(disposition, name);
    const signed = signer.sign({ key, contentDisposition: value }, window);
    const parsed = new URL(signed);
    const rawPath = signed.slice(parsed.origin.length);

    // Act
    const result = verifyCloudFrontUrl({ origin: ORIGIN, rawPath, keys: KEYS, now: NOW });

    // Assess
    expect(parsed.origin).toBe(ORIGIN);
    expect(parsed.pathname + parsed.search).toBe(rawPath);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // The signer re-encodes each segment with encodeURIComponent (so !'()* end up literal),
    // and the query with encodeURIComponent plus ' as %27.
    expect(result.path).toBe(`/files/${key.split('/').map(encodeURIComponent).join('/')}`);
    expect(decodeURIComponent(result.path)).toBe(`/files/${key}`);
    expect(result.query).toBe(
      `response-content-disposition=${encodeURIComponent(value).replace(/'/g, '%27')}`,
    );
    expect(new URLSearchParams(result.query).get('response-content-disposition')).toBe(value);
  });
});
