// End to end: filenames and awkward keys through both signers, followed to the bytes.
// The CloudFront signer and SigV4 presigning each have a history of encoding bugs with
// exactly these characters (aws-sdk-js-v3 #3614, #4859, #7470, ...): every case is
// signed by the real handler and checked by the real verifier in front of the real bytes.
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startStack } from './harness.ts';
import {
  ask,
  type Disposition,
  downloadPath,
  expectProblemResponse,
  follow,
  parseDisposition,
  putObject,
  rawRequest,
  redirectTo,
  s3Client,
  VIAS,
  type Via,
} from './helpers.ts';

const KEY = 'public/e2e/data.bin';
// Every byte value, so any re-encoding or truncation on the way shows.
const BYTES = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));

let stack: RunningStack;
let s3: S3Client;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  s3 = s3Client(stack.endpoints);
  await putObject(s3, stack.endpoints, KEY, BYTES);
  token = await stack.token();
});

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

/** Downloads through a 302 on `via`, checks the bytes and the header, and returns the disposition. */
async function download(path: string, via: Via, expectedBytes: Buffer): Promise<Disposition> {
  const location = await redirectTo(stack.endpoints, path, token, via);
  // S3 signs the path with every character outside RFC 3986's unreserved set
  // percent-encoded: the URL must carry it so, which a stand-in reading the raw path would
  // not notice. (A CloudFront URL needs only to be the very URL its policy signs.)
  if (via === 's3') expect(new URL(location).pathname).toMatch(/^[A-Za-z0-9\-._~%/]+$/);
  const file = await follow(location);
  expect(file.status).toBe(200);
  expect(file.body.equals(expectedBytes)).toBe(true);
  const disposition = parseDisposition(file.headers.get('content-disposition'));
  expect(disposition.type).toBe('attachment');
  // The ASCII fallback: printable ASCII, no quote, no backslash, no percent.
  expect(disposition.fallback).toMatch(/^[\x20-\x7e]+$/);
  expect(disposition.fallback).not.toMatch(/["\\%]/);
  // Nothing else in the response was smuggled in through the name.
  expect(file.headers.get('set-cookie')).toBeNull();
  return disposition;
}

const long = `${'x'.repeat(296)}.txt`; // 300 characters
const longAccents = `${'é'.repeat(200)}.pdf`; // 404 UTF-8 bytes

/** [what, requested filename, expected sanitized name, expected ASCII fallback or undefined to skip]. */
const FILENAMES: [string, string, string, string | undefined][] = [
  ['spaces', 'my annual report.pdf', 'my annual report.pdf', 'my annual report.pdf'],
  ['double quotes', 'say "hi".txt', 'say "hi".txt', 'say _hi_.txt'],
  ['a star', 'star*.txt', 'star*.txt', 'star*.txt'],
  ['an apostrophe', "it's mine.txt", "it's mine.txt", "it's mine.txt"],
  ['a percent sign', '100%.txt', '100%.txt', '100_.txt'],
  ['a literal %20', 'a%20b.txt', 'a%20b.txt', 'a_20b.txt'],
  ['an emoji', 'party 🎉.txt', 'party 🎉.txt', undefined],
  ['CJK', '報告書.pdf', '報告書.pdf', undefined],
  ['accents', 'Résumé Übersicht.txt', 'Résumé Übersicht.txt', 'Resume Ubersicht.txt'],
  ['decomposed accents (NFD → NFC)', 'e\u0301te\u0301.txt', 'été.txt', 'ete.txt'],
  ['a semicolon', 'a;b=c.txt', 'a;b=c.txt', 'a;b=c.txt'],
  ['parentheses, brackets, comma', 'copy (1) [final], v2.txt', 'copy (1) [final], v2.txt', undefined],
  ['a backslash path', 'C:\\Users\\me\\evil.txt', 'evil.txt', 'evil.txt'],
  ['a slash path', 'a/b/c.txt', 'c.txt', 'c.txt'],
  ['a climbing path', '../../etc/passwd', 'passwd', 'passwd'],
  ['CR LF header injection', 'a\r\nSet-Cookie: x=1.txt', 'aSet-Cookie: x=1.txt', 'aSet-Cookie: x=1.txt'],
  ['a bare LF and a NUL', 'a\nb\u0000c.txt', 'abc.txt', 'abc.txt'],
  ['a right-to-left override', 'invoice\u202Efdp.exe', 'invoicefdp.exe', 'invoicefdp.exe'],
  ['300 characters (truncated to 255 bytes, extension kept)', long, `${'x'.repeat(251)}.txt`, undefined],
  ['404 bytes of accents (whole code points kept)', longAccents, `${'é'.repeat(125)}.pdf`, undefined],
];

describe.each(VIAS)('the filename parameter, via=%s', (via) => {
  it.each(FILENAMES)('%s', async (_, requested, expected, fallback) => {
    // Act
    const { name, fallback: ascii } = await download(
      downloadPath(KEY, { via, filename: requested }),
      via,
      BYTES,
    );

    // Assess
    expect(name).toBe(expected);
    expect(Buffer.byteLength(name ?? '', 'utf8')).toBeLessThanOrEqual(255);
    if (fallback !== undefined) expect(ascii).toBe(fallback);
  });

  it.each([
    ['only a space', ' '],
    ['empty', ''],
    ['".."', '..'],
    ['"."', '.'],
    ['a path ending in "/"', 'a/b/'],
    ['only control characters', '\r\n\t'],
    ['over 1024 bytes', 'x'.repeat(1025)],
  ])('an unusable filename (%s) → 400', async (_, requested) => {
    // Act
    const res = await ask(stack.endpoints, downloadPath(KEY, { via, filename: requested }), { token });

    // Assess
    await expectProblemResponse(res, 400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('a raw CR LF in the query cannot split the redirect', async () => {
    // Act: the exact attack string, percent-encoded as a link would carry it.
    const res = await ask(
      stack.endpoints,
      `${downloadPath(KEY, { via })}&filename=a%0d%0aSet-Cookie:%20x=1.txt`,
      {
        token,
      },
    );

    // Assess
    expect(res.status).toBe(302);
    expect(res.headers.get('set-cookie')).toBeNull();
    const location = new URL(res.headers.get('location') as string);
    const file = await rawRequest(location.origin, `${location.pathname}${location.search}`);
    expect(file.status).toBe(200);
    // Exactly one Content-Disposition line, and no header made up from the name.
    const names = file.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    expect(names.filter((name) => name === 'content-disposition')).toHaveLength(1);
    expect(names).not.toContain('set-cookie');
    expect(parseDisposition(file.headers['content-disposition'] as string).name).toBe('aSet-Cookie: x=1.txt');
  });
});

describe.each(VIAS)('the filename from object metadata, via=%s', (via) => {
  const cases: [string, string, string | undefined, Record<string, string>, string][] = [
    [
      'x-amz-meta-filename (ASCII)',
      'public/e2e/meta/obj-1',
      'Quarterly Report Q3.pdf',
      {},
      'Quarterly Report Q3.pdf',
    ],
    [
      'x-amz-meta-filename as an RFC 2047 encoded word (non-ASCII)',
      'public/e2e/meta/obj-2',
      `=?UTF-8?B?${Buffer.from('Überblick 報告.pdf').toString('base64')}?=`,
      {},
      'Überblick 報告.pdf',
    ],
    [
      'x-amz-meta-filename holding a path (path parts dropped)',
      'public/e2e/meta/obj-3',
      '../../secret/plan.txt',
      {},
      'plan.txt',
    ],
    [
      'the filename parameter wins over metadata',
      'public/e2e/meta/obj-1',
      undefined,
      { filename: 'chosen.pdf' },
      'chosen.pdf',
    ],
    [
      'no metadata: the key’s last segment',
      'public/e2e/meta/plain name.csv',
      undefined,
      {},
      'plain name.csv',
    ],
  ];

  beforeAll(async () => {
    for (const [, key, meta] of cases) {
      if (meta !== undefined || key.endsWith('.csv')) {
        await putObject(s3, stack.endpoints, key, `bytes of ${key}`, { filename: meta });
      }
    }
  });

  it.each(cases)('%s', async (_, key, __, query, expected) => {
    // Act
    const { name } = await download(
      downloadPath(key, { via, ...query }),
      via,
      Buffer.from(`bytes of ${key}`),
    );

    // Assess
    expect(name).toBe(expected);
  });
});

describe.each(VIAS)('awkward keys, via=%s', (via) => {
  const KEYS = [
    'public/a+b=c&d$e@f;g:h i.txt',
    'public/Überblick 報告.pdf',
    'public/emoji 🎉.txt',
    "public/quote's (1).txt",
    'public/star*.txt',
    'public/100%.txt',
    'public/100%25.txt',
    'public/a%2Fb.txt',
    'public/plus+and space.txt',
    'public/tilde~!,[x].txt',
    'public/deep/er/and/deeper/é.txt',
    'public/ünicode-NFD-u\u0308.txt',
    'public/what? #1.txt',
    'public/hash#?query=1&x.txt',
  ];

  beforeAll(async () => {
    await Promise.all(KEYS.map((key) => putObject(s3, stack.endpoints, key, `${via}:${key}`)));
  });

  it.each(KEYS)('%s', async (key) => {
    // Act
    const { name } = await download(downloadPath(key, { via }), via, Buffer.from(`${via}:${key}`));

    // Assess: the default filename is the key's last segment (NFC).
    expect(name).toBe((key.split('/').at(-1) ?? '').normalize('NFC'));
  });
});
