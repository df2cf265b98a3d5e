import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { FinalizeHandler, FinalizeHandlerArguments } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../infra/local/s3.ts';

const REGION = 'us-east-1';
const BUCKET = 'signet-local';
const CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };
const BODY = '0123456789';

let s3: LocalS3;
let directory: string;
let client: S3Client;

const newClient = (credentials = CREDENTIALS) =>
  new S3Client({ region: REGION, endpoint: s3.endpoint, forcePathStyle: true, credentials, maxAttempts: 1 });

/** The S3 error an SDK call fails with. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as S3ServiceException | undefined;
  expect(err, 'the call should have failed').toBeDefined();
  return { name: err?.name ?? '', status: err?.$metadata?.httpStatusCode };
}

const errorCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];

const presignGet = (
  key: string,
  extra: { disposition?: string; expiresIn?: number; signingDate?: Date } = {},
) =>
  getSignedUrl(
    client,
    new GetObjectCommand({ Bucket: BUCKET, Key: key, ResponseContentDisposition: extra.disposition }),
    {
      expiresIn: extra.expiresIn ?? 60,
      ...(extra.signingDate ? { signingDate: extra.signingDate } : {}),
    },
  );

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'signet-local-s3-'));
  s3 = await startLocalS3({
    port: 0,
    directory,
    credentials: CREDENTIALS,
    region: REGION,
    buckets: [BUCKET],
  });
  client = newClient();
  await client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', Body: BODY, ContentType: 'text/plain' }),
  );
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('local S3 with an S3Client', () => {
  it('listens on 127.0.0.1 on a random port', () => {
    expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
    expect(s3.port).toBeGreaterThan(0);
  });

  it('puts, heads and gets an object with its metadata', async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'docs/meta.txt',
        Body: 'hello',
        ContentType: 'text/plain',
        Metadata: { filename: 'Hello.txt' },
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'docs/meta.txt' }));
    expect(head).toMatchObject({
      ContentLength: 5,
      ContentType: 'text/plain',
      Metadata: { filename: 'Hello.txt' },
    });
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/meta.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  });

  it('uploads a stream (aws-chunked) and stores the decoded bytes', async () => {
    const Body = Readable.from([Buffer.from('streamed '), Buffer.from('body')]);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'stream.txt', Body, ContentLength: 13 }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stream.txt' }));
    expect(await got.Body?.transformToString()).toBe('streamed body');
    expect(got.ContentEncoding).toBeUndefined();
  });

  it('answers HeadObject on a missing key with 404 NotFound', async () => {
    const result = await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing.txt' })));
    expect(result).toEqual({ name: 'NotFound', status: 404 });
  });

  it('refuses a wrong secret with 403 SignatureDoesNotMatch', async () => {
    const wrong = newClient({ ...CREDENTIALS, secretAccessKey: 'wrong-secret' });
    expect(await failure(wrong.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' })))).toEqual({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(
      await failure(wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x.txt', Body: 'x' }))),
    ).toEqual({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(
      (await failure(wrong.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' })))).status,
    ).toBe(403);
    wrong.destroy();
  });

  it('refuses an unknown access key id with 403 InvalidAccessKeyId', async () => {
    const stranger = newClient({ accessKeyId: 'AKIDSTRANGER', secretAccessKey: CREDENTIALS.secretAccessKey });
    expect(await failure(stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' })))).toEqual(
      {
        name: 'InvalidAccessKeyId',
        status: 403,
      },
    );
    stranger.destroy();
  });

  it('refuses a body that does not match its signed x-amz-content-sha256', async () => {
    const tampering = newClient();
    tampering.middlewareStack.addRelativeTo(
      (next: FinalizeHandler<ServiceInputTypes, ServiceOutputTypes>) =>
        async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
          (args.request as { body: unknown }).body = 'tampered';
          return next(args);
        },
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamperBody' },
    );
    const result = await failure(
      tampering.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', Body: 'original' })),
    );
    expect(result).toEqual({ name: 'XAmzContentSHA256Mismatch', status: 403 });
    tampering.destroy();
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' }));
    expect(await got.Body?.transformToString()).toBe(BODY);
  });

  it('refuses an unsigned PUT and stores nothing', async () => {
    const res = await fetch(`${s3.endpoint}/${BUCKET}/unsigned.txt`, { method: 'PUT', body: 'sneaky' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(errorCode(await res.text())).toBe('AccessDenied');
    expect(
      (await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'unsigned.txt' })))).status,
    ).toBe(404);
  });

  it('refuses keys with . or .. segments, which would escape the storage folder', async () => {
    const result = await failure(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/../../../escape.txt', Body: 'x' })),
    );
    expect(result).toEqual({ name: 'InvalidArgument', status: 400 });
  });

  it.each([
    ['a NUL', 'a\u0000b.txt'],
    ['a segment over 255 bytes', `${'x'.repeat(256)}.txt`],
  ])(
    'answers a key holding %s, which cannot be stored locally: 404 to reads, 400 to writes',
    async (_, key) => {
      expect(await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
        name: 'NotFound',
        status: 404,
      });
      expect(await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
        name: 'NoSuchKey',
        status: 404,
      });
      expect(
        await failure(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }))),
      ).toEqual({
        name: 'KeyTooLongError',
        status: 400,
      });
    },
  );
});

describe('local S3 with presigned URLs', () => {
  const disposition = `attachment; filename="Uberblick.pdf"; filename*=UTF-8''%C3%9Cberblick%20(1).pdf`;

  it('serves the bytes with the signed Content-Disposition', async () => {
    const res = await fetch(await presignGet('digits.txt', { disposition }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(disposition);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe(BODY);
  });

  it('refuses an unsigned GET with 403 AccessDenied', async () => {
    const res = await fetch(`${s3.endpoint}/${BUCKET}/digits.txt`);
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe('AccessDenied');
  });

  it.each([
    ['the key', (url: string) => url.replace('/digits.txt?', '/digitz.txt?')],
    [
      'the signature',
      (url: string) =>
        url.replace(
          /(X-Amz-Signature=[0-9a-f]*)([0-9a-f])/,
          (_, head: string, last: string) => head + (last === '0' ? '1' : '0'),
        ),
    ],
    [
      'response-content-disposition',
      (url: string) =>
        url.replace('response-content-disposition=attachment', 'response-content-disposition=attachmenu'),
    ],
  ])('refuses a URL with one changed character in %s', async (_, tamper) => {
    const url = await presignGet('digits.txt', { disposition });
    const tampered = tamper(url);
    expect(tampered).not.toBe(url);
    const res = await fetch(tampered);
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe('SignatureDoesNotMatch');
  });

  it('refuses an expired URL', async () => {
    const url = await presignGet('digits.txt', {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Request has expired');
  });

  it('refuses HEAD on a presigned GET URL (the method is signed)', async () => {
    const res = await fetch(await presignGet('digits.txt'), { method: 'HEAD' });
    expect(res.status).toBe(403);
  });

  it.each([
    ['bytes=0-4', 206, 'bytes 0-4/10', '01234'],
    ['bytes=5-', 206, 'bytes 5-9/10', '56789'],
    ['bytes=-5', 206, 'bytes 5-9/10', '56789'],
    ['bytes=-10', 206, 'bytes 0-9/10', BODY],
    ['bytes=-100', 206, 'bytes 0-9/10', BODY],
    ['bytes=0-0', 206, 'bytes 0-0/10', '0'],
    ['bytes=9-9', 206, 'bytes 9-9/10', '9'],
    ['bytes=2-100', 206, 'bytes 2-9/10', '23456789'],
    ['bytes=5-2', 200, null, BODY],
    ['bytes=0-1,4-5', 200, null, BODY],
    ['bytes=abc', 200, null, BODY],
  ])('answers Range %s with %i', async (range, status, contentRange, body) => {
    const res = await fetch(await presignGet('digits.txt', { disposition }), { headers: { range } });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-range')).toBe(contentRange);
    expect(res.headers.get('content-disposition')).toBe(disposition);
    const text = await res.text();
    expect(text).toBe(body);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
  });

  it.each(['bytes=10-', 'bytes=-0'])(
    'answers an unsatisfiable Range %s with 416 InvalidRange',
    async (range) => {
      const res = await fetch(await presignGet('digits.txt'), { headers: { range } });
      expect(res.status).toBe(416);
      expect(errorCode(await res.text())).toBe('InvalidRange');
    },
  );

  it('answers a suffix Range through GetObject too', async () => {
    const got = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', Range: 'bytes=-3' }),
    );
    expect(got.ContentRange).toBe('bytes 7-9/10');
    expect(await got.Body?.transformToString()).toBe('789');
  });

  it.each([
    'dir/a+b=c&d$e@f;g:h i.txt',
    'Überblick 報告.pdf',
    "it's (1) *final*!~.txt",
    'users/alice/100% done.txt',
  ])('round-trips key %j through PutObject and a presigned GET', async (key) => {
    const body = `bytes of ${key}`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const res = await fetch(await presignGet(key, { disposition: 'inline' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('inline');
    expect(await res.text()).toBe(body);
  });
});

describe('local S3 storage', () => {
  it('keeps objects across restarts in the same directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signet-local-s3-restart-'));
    const options = { directory: dir, credentials: CREDENTIALS, region: REGION, buckets: [BUCKET] };
    try {
      const first = await startLocalS3(options);
      const firstClient = new S3Client({
        region: REGION,
        endpoint: first.endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
      });
      await firstClient.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.txt', Body: 'kept' }));
      firstClient.destroy();
      await first.close();

      const second = await startLocalS3(options);
      const secondClient = new S3Client({
        region: REGION,
        endpoint: second.endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
      });
      const got = await secondClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kept.txt' }));
      expect(await got.Body?.transformToString()).toBe('kept');
      secondClient.destroy();
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
