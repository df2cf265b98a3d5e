import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FinalizeHandler, FinalizeHandlerArguments } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientErrorXml,
  type LocalS3,
  MAX_AWS_CHUNKS,
  parseAwsChunked,
  startLocalS3,
} from '../../infra/local/s3.ts';
import { parseCompletion, parseDeleteObjects, storageProblem } from '../../infra/local/s3-requests.ts';
import { canonicalUri } from '../../infra/local/sigv4.ts';
import { Sha256 } from '../sha256.ts';
import { exchangeRaw } from './helpers.ts';

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

const presignHead = (key: string) =>
  getSignedUrl(client, new HeadObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 60 });

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

  it.each([
    ['another body’s', createHash('md5').update('other').digest('base64'), 'BadDigest'],
    ['a malformed', 'AAAA', 'InvalidDigest'],
  ])('refuses a PUT with %s Content-MD5 with 400, and stores nothing', async (_, md5, code) => {
    // Act
    const result = await failure(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'md5.txt', Body: 'hello', ContentMD5: md5 })),
    );

    // Assess
    expect(result).toEqual({ name: code, status: 400 });
    expect(await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'md5.txt' })))).toEqual({
      name: 'NotFound',
      status: 404,
    });
  });

  it('refuses a DeleteObjects whose Content-MD5 does not match with 400 BadDigest, and deletes nothing', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep.txt', Body: 'keep' }));
    const wrongMd5 = newClient();
    wrongMd5.middlewareStack.addRelativeTo(
      (next: FinalizeHandler<ServiceInputTypes, ServiceOutputTypes>) =>
        async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
          (args.request as { headers: Record<string, string> }).headers['content-md5'] = createHash('md5')
            .update('other')
            .digest('base64');
          return next(args);
        },
      { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'wrongMd5' },
    );

    // Act
    const result = await failure(
      wrongMd5.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'keep.txt' }] } })),
    );
    wrongMd5.destroy();

    // Assess
    expect(result).toEqual({ name: 'BadDigest', status: 400 });
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'keep.txt' }));
    expect(await got.Body?.transformToString()).toBe('keep');
  });

  it('answers a request too slow to arrive with 400 RequestTimeout in S3 XML', () => {
    // Act
    const { status, body } = clientErrorXml('ERR_HTTP_REQUEST_TIMEOUT');

    // Assess
    expect(status).toBe(400);
    expect(errorCode(body)).toBe('RequestTimeout');
  });

  it('stores a PUT whose Content-MD5 matches', async () => {
    // Act
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'md5-ok.txt',
        Body: 'hello',
        ContentMD5: createHash('md5').update('hello').digest('base64'),
      }),
    );

    // Assess
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'md5-ok.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  });

  it('keeps the old object when an upload is cut short (S3 stores an upload whole or not at all)', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cut.txt', Body: BODY }));
    // No checksum in the URL: the body is then streamed to s3rver, not checked first.
    const plain = new S3Client({
      region: REGION,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const url = new URL(await getSignedUrl(plain, new PutObjectCommand({ Bucket: BUCKET, Key: 'cut.txt' })));
    plain.destroy();
    expect([...url.searchParams.keys()].some((name) => name.startsWith('x-amz-checksum'))).toBe(false);

    // Act: 3 of the 100 bytes announced, then the connection drops.
    await new Promise<void>((done) => {
      const put = httpRequest(url, { method: 'PUT', headers: { 'content-length': '100' } });
      put.on('error', () => done());
      put.write('abc');
      setTimeout(() => {
        put.destroy();
        done();
      }, 100);
    });
    await new Promise((settle) => setTimeout(settle, 200));

    // Assess
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cut.txt' }));
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

  it('refuses writes of keys with . or .. segments, which would escape the storage folder; reads answer 404', async () => {
    const result = await failure(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/../../../escape.txt', Body: 'x' })),
    );
    expect(result).toEqual({ name: 'InvalidArgument', status: 400 });
    // Such a key cannot be stored here, so it does not exist.
    for (const Key of ['a/../digits.txt', './digits.txt', '..']) {
      expect(await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key })))).toEqual({
        name: 'NoSuchKey',
        status: 404,
      });
      expect((await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key })))).status).toBe(404);
    }
  });

  it.each([
    ['a NUL', 'a\u0000b.txt'],
    ['a segment over 255 bytes', `${'x'.repeat(256)}.txt`],
    // s3rver stores `<segment>._S3rver_metadata.json` beside the object: 255 bytes at most.
    ["a segment of 234 bytes (with s3rver's suffix, over 255)", `${'x'.repeat(230)}.txt`],
    ['a segment of 121 two-byte characters (242 bytes)', 'é'.repeat(121)],
    ["a segment naming one of s3rver's own files", 'digits.txt._S3rver_object/x'],
    ["a last segment ending in s3rver's suffix", 'zz._S3rver_object'],
    ['an empty segment inside (s3rver would store it as a/b.txt)', 'a//b.txt'],
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
      // The stand-in goes on serving (s3rver used to crash the process on such a write).
      expect(await exists('digits.txt')).toBe(true);
    },
  );

  it('stores a folder marker (a key ending in "/")', async () => {
    // Act
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'folder/', Body: '' }));

    // Assess
    expect(await exists('folder/')).toBe(true);
  });

  it('stores a key whose segment is 233 bytes, the longest it can', async () => {
    // Prepare
    const key = `long/${'y'.repeat(229)}.txt`;

    // Act
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'long' }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));

    // Assess
    expect(await got.Body?.transformToString()).toBe('long');
  });
});

describe('local S3: nothing a request names reaches outside its folder', () => {
  const unique = `signet-escape-${process.pid}-${Date.now()}`;
  /** Where a `../` chain from the storage folder could have put `unique`. */
  const escaped = () =>
    Array.from({ length: 6 }, (_, up) => join(directory, ...Array<string>(up).fill('..'), unique)).filter(
      (path) => existsSync(path),
    );

  /** A presigned PUT of `key` with `query` (a name given twice as an array), sent with `body`. */
  async function put(key: string, query: Record<string, string | string[]>, body = 'x') {
    const res = await fetch(await presignedUrl('PUT', `/${BUCKET}/${key}`, query), { method: 'PUT', body });
    return { status: res.status, code: errorCode(await res.text()) };
  }

  /**
   * Sends `method` on `rawPath` exactly as written (no URL parser on the way), signed in
   * its headers as a client would sign that very path.
   */
  async function sendRaw(method: string, rawPath: string, headers: Record<string, string> = {}, body = '') {
    const endpoint = new URL(s3.endpoint);
    const [path = '', search = ''] = rawPath.split('?', 2);
    const signed = await signer.sign(
      localRequest(
        method,
        // Signed as S3 reads it, as a client that signs properly does.
        canonicalUri(path),
        { 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...headers },
        Object.fromEntries(new URLSearchParams(search)),
      ),
    );
    return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
      httpRequest(
        { host: endpoint.hostname, port: endpoint.port, method, path: rawPath, headers: signed.headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, code: errorCode(text) }));
        },
      )
        .on('error', reject)
        .end(body);
    });
  }

  it('reads a raw "+" in a path as a space, as S3 does; "%2B" is a plus', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plus/a b.txt', Body: 'space' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plus/c+d.txt', Body: 'plus' }));

    // Act
    const spaced = await sendRaw('GET', `/${BUCKET}/plus/a+b.txt`);
    const plusRaw = await sendRaw('GET', `/${BUCKET}/plus/c+d.txt`);
    const plusEncoded = await sendRaw('GET', `/${BUCKET}/plus/c%2Bd.txt`);
    const written = await sendRaw('PUT', `/${BUCKET}/plus/e+f.txt`, {}, 'written');

    // Assess
    expect(spaced.status).toBe(200);
    expect(plusRaw).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(plusEncoded.status).toBe(200);
    expect(written.status).toBe(200);
    expect(await exists('plus/e f.txt')).toBe(true);
    expect(await exists('plus/e+f.txt')).toBe(false);
  });

  it('refuses a path whose backslashes a URL parser would read as "/" (after a "#"), and writes nothing', async () => {
    // Act
    const answer = await sendRaw('PUT', `/${BUCKET}/a\\..\\..\\..\\..\\${unique}\\evil#`, {}, 'evil');

    // Assess
    expect(answer).toEqual({ status: 400, code: 'InvalidURI' });
    expect(escaped()).toEqual([]);
  });

  it('answers a browser-form POST Object 501 NotImplemented, and writes nothing', async () => {
    // Prepare
    const form = [
      '--b',
      'Content-Disposition: form-data; name="key"',
      '',
      `../../../../${unique}/form`,
      '--b',
      'Content-Disposition: form-data; name="file"; filename="f"',
      '',
      'evil',
      '--b--',
      '',
    ].join('\r\n');

    // Act
    const answer = await sendRaw(
      'POST',
      `/${BUCKET}`,
      { 'content-type': 'multipart/form-data; boundary=b' },
      form,
    );

    // Assess
    expect(answer).toEqual({ status: 501, code: 'NotImplemented' });
    expect(escaped()).toEqual([]);
  });

  it('DeleteObjects deletes each key as S3 does ("1" too), and a key climbing out deletes nothing outside', async () => {
    // Prepare: a file where `../../{unique}/victim` would land from the bucket's folder.
    const outside = join(directory, '..', unique);
    await mkdir(outside);
    await writeFile(join(outside, 'victim._S3rver_object'), 'keep');
    try {
      for (const Key of ['1', 'del/a b.txt'])
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
      const Objects = [{ Key: '1' }, { Key: 'del/a b.txt' }, { Key: `../../${unique}/victim` }];

      // Act
      const result = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects } }));

      // Assess
      expect(result.Deleted?.map((d) => d.Key)).toEqual(Objects.map((o) => o.Key));
      expect(result.Errors).toBeUndefined();
      expect(await exists('1')).toBe(false);
      expect(await exists('del/a b.txt')).toBe(false);
      expect(await readFile(join(outside, 'victim._S3rver_object'), 'utf8')).toBe('keep');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('DeleteObjects in quiet mode deletes and lists nothing back', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'quiet.txt', Body: 'x' }));

    // Act
    const result = await client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Quiet: true, Objects: [{ Key: 'quiet.txt' }] } }),
    );

    // Assess
    expect(result.Deleted).toBeUndefined();
    expect(await exists('quiet.txt')).toBe(false);
  });

  describe('CompleteMultipartUpload is checked against the parts uploaded', () => {
    let UploadId: string | undefined;
    let etag: string | undefined;
    const Key = 'multipart/checked.bin';

    beforeAll(async () => {
      ({ UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key })));
      ({ ETag: etag } = await client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: 'part one' }),
      ));
    });

    it.each([
      [
        'a part never uploaded (s3rver used to crash the process)',
        () => [
          { PartNumber: 1, ETag: etag },
          { PartNumber: 2, ETag: etag },
        ],
        'InvalidPart',
        400,
      ],
      [
        'a part whose ETag does not match',
        () => [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }],
        'InvalidPart',
        400,
      ],
      [
        'parts out of order',
        () => [
          { PartNumber: 1, ETag: etag },
          { PartNumber: 1, ETag: etag },
        ],
        'InvalidPartOrder',
        400,
      ],
    ])('refuses %s, and the upload can still complete', async (_, parts, name, status) => {
      // Act
      const refused = await failure(
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key,
            UploadId,
            MultipartUpload: { Parts: parts() },
          }),
        ),
      );

      // Assess
      expect(refused).toEqual({ name, status });
      expect(await exists('digits.txt')).toBe(true);
    });

    it('refuses a missing part hidden in a start tag with a space, which s3rver reads as a Part', async () => {
      // Prepare
      const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part><Part ><PartNumber>2</PartNumber><ETag>${etag}</ETag></Part ></CompleteMultipartUpload>`;

      // Act
      const answer = await sendRaw('POST', `/${BUCKET}/${Key}?uploadId=${UploadId}`, {}, xml);

      // Assess
      expect(answer).toEqual({ status: 400, code: 'InvalidPart' });
      expect(await exists('digits.txt')).toBe(true);
    });

    it('completes an upload once when completions overlap: the others get 404, the server lives on', async () => {
      // Prepare: an upload of its own, so the shared one stays.
      const OwnKey = 'multipart/raced.bin';
      const { UploadId: own } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: OwnKey }),
      );
      const parts: { PartNumber: number; ETag: string | undefined }[] = [];
      for (let PartNumber = 1; PartNumber <= 5; PartNumber++) {
        const { ETag } = await client.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: OwnKey,
            UploadId: own,
            PartNumber,
            Body: `part ${PartNumber};`,
          }),
        );
        parts.push({ PartNumber, ETag });
      }
      const complete = () =>
        client
          .send(
            new CompleteMultipartUploadCommand({
              Bucket: BUCKET,
              Key: OwnKey,
              UploadId: own,
              MultipartUpload: { Parts: parts },
            }),
          )
          .then(
            () => 200,
            (error: S3ServiceException) => `${error.$metadata.httpStatusCode} ${error.name}`,
          );

      // Act
      const outcomes = await Promise.all(Array.from({ length: 8 }, complete));

      // Assess
      expect(outcomes.filter((o) => o === 200)).toHaveLength(1);
      expect(outcomes.filter((o) => o !== 200)).toEqual(Array(7).fill('404 NoSuchUpload'));
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: OwnKey }));
      expect(await got.Body?.transformToString()).toBe('part 1;part 2;part 3;part 4;part 5;');
    });

    it('refuses an upload id it never gave with 404 NoSuchUpload', async () => {
      // Act
      const refused = await failure(
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key,
            UploadId: 'f'.repeat(32),
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
          }),
        ),
      );

      // Assess
      expect(refused).toEqual({ name: 'NoSuchUpload', status: 404 });
    });

    it('completes with the parts it has (the control)', async () => {
      // Act
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
        }),
      );

      // Assess
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      expect(await got.Body?.transformToString()).toBe('part one');
    });
  });

  it.each([
    ['no Delete element', '<Objects><Object><Key>a</Key></Object></Objects>'],
    ['an Object without a Key', '<Delete><Object><VersionId>1</VersionId></Object></Delete>'],
    ['a Key holding an element', '<Delete><Object><Key><x/></Key></Object></Delete>'],
    ['no Object', '<Delete></Delete>'],
    ['1001 Objects', `<Delete>${'<Object><Key>a</Key></Object>'.repeat(1001)}</Delete>`],
    ['a reference to no character', '<Delete><Object><Key>a&#x110000;</Key></Object></Delete>'],
    ['a reference to NUL', '<Delete><Object><Key>a&#0;</Key></Object></Delete>'],
    ['a comment that never ends', '<Delete><!-- <Object><Key>a</Key></Object></Delete>'],
    ['Objects that never close', `<Delete>${'<Object>'.repeat(1000)}</Delete>`],
  ])('reads a DeleteObjects body with %s as MalformedXML', (_, xml) => {
    expect(parseDeleteObjects(xml)).toMatchObject({ status: 400, code: 'MalformedXML' });
  });

  it('reads the parts s3rver would read: start tags with space or attributes, not those in comments', () => {
    expect(
      parseCompletion(
        '<CompleteMultipartUpload xmlns="x"><Part ><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><!-- <Part><PartNumber>9</PartNumber><ETag>c</ETag></Part> --><Part id="2"><PartNumber >2</PartNumber ><ETag>&quot;b&quot;</ETag></Part ></CompleteMultipartUpload>',
      ),
    ).toEqual([
      { number: '1', etag: 'a' },
      { number: '2', etag: 'b' },
    ]);
  });

  it('reads DeleteObjects keys with their XML escapes resolved', () => {
    expect(
      parseDeleteObjects(
        '<Delete><Quiet>true</Quiet><Object><Key>a &amp; b&#47;&#x63;</Key></Object></Delete>',
      ),
    ).toEqual({ keys: ['a & b/c'], quiet: true });
  });

  it.each([
    ['no CompleteMultipartUpload element', '<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>'],
    [
      'a Part without an ETag',
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    ],
    [
      'a PartNumber that is not one',
      '<CompleteMultipartUpload><Part><PartNumber>../1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
    ],
    ['no Part', '<CompleteMultipartUpload></CompleteMultipartUpload>'],
  ])('reads a CompleteMultipartUpload body with %s as MalformedXML', (_, xml) => {
    expect(parseCompletion(xml)).toMatchObject({ status: 400, code: 'MalformedXML' });
  });

  it.each([
    [
      'an absolute-form target, whose path s3rver would take past every check',
      `http://127.0.0.1:1/${BUCKET}?delete`,
    ],
    ['an asterisk-form target', '*'],
    ['a path with no bucket before the key', '//x.txt'],
  ])('refuses %s with 400 InvalidURI or InvalidBucketName', (_, target) => {
    expect(storageProblem('POST', target, {})).toMatchObject({ status: 400 });
  });

  it('answers an UploadPart for an upload never started 404 NoSuchUpload, storing no part', async () => {
    // Act
    const answer = await put('multipart/part.bin', { partNumber: '1', uploadId: '0'.repeat(32) });

    // Assess
    expect(answer).toEqual({ status: 404, code: 'NoSuchUpload' });
    expect(existsSync(join(directory, BUCKET, '._S3rver_uploads', '0'.repeat(32)))).toBe(false);
  });

  it('DeleteObjects answers an empty key with its own error, and deletes no bucket', async () => {
    // Act
    const result = await client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: '' }] } }),
    );

    // Assess
    expect(result.Errors).toEqual([expect.objectContaining({ Key: '', Code: 'UserKeyMustBeSpecified' })]);
    expect(await exists('digits.txt')).toBe(true);
  });

  it.each([
    ['a control character', { ResponseContentType: 'text/plain\r' }],
    ['a Latin-1 letter', { ResponseContentDisposition: 'attachment; filename="é.txt"' }],
    ['a no-break space', { ResponseContentDisposition: 'attachment; filename="\u00a0.txt"' }],
    ['U+0080', { ResponseContentType: 'text/x\u0080' }],
  ])(
    'refuses a response-* value holding %s with 400, not a 500 (s3rver cannot echo it)',
    async (_, input) => {
      // Prepare
      const url = await getSignedUrl(
        client,
        new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', ...input }),
        {
          expiresIn: 60,
        },
      );

      // Act
      const res = await fetch(url);

      // Assess
      expect(res.status).toBe(400);
      expect(errorCode(await res.text())).toBe('InvalidArgument');
    },
  );

  it('refuses a copy source given as a query parameter, which s3rver would take over the header', async () => {
    // Act
    const answer = await put('copied-by-query.txt', {
      'x-amz-copy-source': `${BUCKET}/../../../${unique}/secret`,
    });

    // Assess
    expect(answer).toEqual({ status: 400, code: 'InvalidArgument' });
    expect(await exists('copied-by-query.txt')).toBe(false);
  });

  it('refuses an UploadPart with an uploadId and no partNumber with 400', async () => {
    // Prepare
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multipart/nopart.bin' }),
    );

    // Act
    const answer = await put('multipart/nopart.bin', { uploadId: UploadId ?? '' });

    // Assess
    expect(answer).toEqual({ status: 400, code: 'InvalidArgument' });
  });

  it('refuses more than the 1000 query parameters s3rver reads', () => {
    // Prepare
    const query = Array.from({ length: 1001 }, (_, i) => `p${i}=x`).join('&');

    // Act
    const refused = storageProblem('GET', `/${BUCKET}/digits.txt?${query}`, {});

    // Assess
    expect(refused).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(
      storageProblem('GET', `/${BUCKET}/digits.txt?${query.slice(0, query.lastIndexOf('&'))}`, {}),
    ).toBeUndefined();
  });

  it('refuses an aws-chunked body of more chunks than it holds (1-byte chunks took gigabytes)', () => {
    // Prepare
    const body = (chunks: number) => Buffer.from(`${'1\r\na\r\n'.repeat(chunks)}0\r\n\r\n`, 'latin1');

    // Act
    const within = parseAwsChunked(body(1000));
    const over = parseAwsChunked(body(MAX_AWS_CHUNKS + 1));

    // Assess
    expect(within?.data.toString('latin1')).toBe('a'.repeat(1000));
    expect(over).toBeUndefined();
  });

  it('answers DeleteObjects on a bucket that does not exist 404 NoSuchBucket', async () => {
    // Act
    const refused = await failure(
      client.send(
        new DeleteObjectsCommand({ Bucket: 'no-such-bucket', Delete: { Objects: [{ Key: 'a' }] } }),
      ),
    );

    // Assess
    expect(refused).toEqual({ name: 'NoSuchBucket', status: 404 });
  });

  it.each(['192.168.1.1', 'xn--abc', 'a..b', 'ab-s3alias'])(
    'refuses the bucket name %s, which S3 refuses, with 400',
    (name) => {
      expect(storageProblem('PUT', `/${name}`, {})).toMatchObject({ status: 400, code: 'InvalidBucketName' });
    },
  );

  it('refuses a query parameter given twice (s3rver would fail on it with a 500)', async () => {
    // Act
    const answer = await put('multipart/part.bin', {
      partNumber: '1',
      uploadId: ['a'.repeat(32), 'b'.repeat(32)],
    });

    // Assess
    expect(answer).toEqual({ status: 400, code: 'InvalidArgument' });
  });

  it.each([
    ['an uploadId climbing out', { partNumber: '1', uploadId: `../../../../${unique}` }, 404, 'NoSuchUpload'],
    ["an uploadId that is not s3rver's", { partNumber: '1', uploadId: 'abc' }, 404, 'NoSuchUpload'],
    [
      'a partNumber climbing out',
      { partNumber: `../../../../${unique}/part`, uploadId: 'a'.repeat(32) },
      400,
      'InvalidArgument',
    ],
    ['partNumber 0', { partNumber: '0', uploadId: 'a'.repeat(32) }, 400, 'InvalidArgument'],
    ['partNumber 10001', { partNumber: '10001', uploadId: 'a'.repeat(32) }, 400, 'InvalidArgument'],
  ])('refuses an UploadPart with %s, and writes nothing', async (_, query, status, code) => {
    // Act
    const answer = await put('multipart/part.bin', query);

    // Assess
    expect(answer).toEqual({ status, code });
    expect(escaped()).toEqual([]);
  });

  it.each([
    ['not percent-decodable', '%zz', 400, 'InvalidArgument'],
    ['climbing out', `${BUCKET}/../../../../etc/passwd`, 400, 'InvalidArgument'],
    [
      'climbing out after a "?" (s3rver reads past it)',
      `${BUCKET}/digits.txt?/../../../../etc/passwd`,
      400,
      'InvalidArgument',
    ],
    ['holding a NUL after a "?"', `${BUCKET}/digits.txt?%00`, 404, 'NoSuchKey'],
    ['naming no key', BUCKET, 400, 'InvalidArgument'],
    ["naming one of s3rver's files", `${BUCKET}/digits.txt._S3rver_object`, 404, 'NoSuchKey'],
    ['with a segment too long to exist here', `${BUCKET}/${'z'.repeat(250)}`, 404, 'NoSuchKey'],
  ])('refuses a CopyObject whose source is %s', async (_, source, status, name) => {
    // Act
    const result = await failure(
      client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copied.txt', CopySource: source })),
    );

    // Assess
    expect(result).toEqual({ name, status });
    expect(await exists('copied.txt')).toBe(false);
  });

  it('copies an object whose source is well formed (the control)', async () => {
    // Act
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy of digits.txt',
        CopySource: `${BUCKET}/digits.txt`,
      }),
    );

    // Assess
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'copy of digits.txt' }));
    expect(await got.Body?.transformToString()).toBe(BODY);
  });

  it('answers a bucket segment that hides a "/" (%2F) with 400 InvalidBucketName', async () => {
    // Act
    const res = await fetch(await presignedUrl('GET', `/${BUCKET}%2Fdigits.txt`));

    // Assess
    expect(res.status).toBe(400);
    expect(errorCode(await res.text())).toBe('InvalidBucketName');
  });
});

/** A client whose requests get `change` applied after they are signed. */
function clientChanging(change: (request: { headers: Record<string, string>; body: unknown }) => void) {
  const changing = newClient();
  changing.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<ServiceInputTypes, ServiceOutputTypes>) =>
      async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
        change(args.request as { headers: Record<string, string>; body: unknown });
        return next(args);
      },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'changeAfterSigning' },
  );
  return changing;
}

/** Whether `key` exists, by a HeadObject. */
const exists = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    () => false,
  );

describe('local S3: what a signature must cover', () => {
  it('hands s3rver every header it checked, however many come before them (Node keeps 2,000)', async () => {
    // Prepare: a header-signed upload with metadata, sent behind 2,100 unsigned headers.
    const key = 'many-headers.txt';
    const hash = createHash('sha256').update('body').digest('hex');
    const signed = await signer.sign(
      localRequest('PUT', `/${BUCKET}/${key}`, { 'x-amz-content-sha256': hash, 'x-amz-meta-note': 'kept' }),
    );
    const endpoint = new URL(s3.endpoint);

    // Act
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpRequest(
        {
          host: endpoint.hostname,
          port: endpoint.port,
          method: 'PUT',
          path: `/${BUCKET}/${key}`,
          // Each of its own name, so none are joined into one.
          headers: {
            ...Object.fromEntries(Array.from({ length: 2100 }, (_, i) => [`j${i.toString(36)}`, ''])),
            ...signed.headers,
          },
        },
        (res) => resolve(res.resume().statusCode),
      )
        .on('error', reject)
        .end('body');
    });

    // Assess
    expect(status).toBe(200);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.Metadata).toEqual({ note: 'kept' });
  });

  it('refuses an x-amz-* header added after signing and stores nothing', async () => {
    // Prepare
    const changing = clientChanging((request) => {
      request.headers['x-amz-meta-evil'] = 'injected';
    });

    // Act
    const result = await failure(
      changing.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'unsigned-meta.txt', Body: 'x' })),
    );

    // Assess
    expect(result).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await exists('unsigned-meta.txt')).toBe(false);
    changing.destroy();
  });

  it('refuses an x-amz-content-sha256 that is neither a hash nor a payload mode with 400', async () => {
    // Prepare: signed as sent, so only the value itself is wrong.
    const odd = newClient();
    odd.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = 'ANYTHING';
        return next(args);
      },
      { step: 'build', name: 'oddPayloadHash' },
    );

    // Act
    const result = await failure(
      odd.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'odd.txt', Body: 'x' })),
    );

    // Assess
    expect(result).toEqual({ name: 'InvalidArgument', status: 400 });
    expect(await exists('odd.txt')).toBe(false);
    odd.destroy();
  });

  it('refuses a request signed for another region with 403', async () => {
    // Prepare
    const elsewhere = new S3Client({
      region: 'eu-west-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });

    // Act
    const result = await failure(elsewhere.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' })));

    // Assess
    expect(result).toEqual({ name: 'SignatureDoesNotMatch', status: 403 });
    elsewhere.destroy();
  });

  it.each([
    ['a signed x-amz-checksum-crc32 header', { ChecksumCRC32: 'AAAAAA==' }],
    ['a signed x-amz-checksum-sha256 header', { ChecksumSHA256: Buffer.alloc(32).toString('base64') }],
  ])('refuses a body that does not match %s with 400 BadDigest', async (_, checksum) => {
    // Act
    const result = await failure(
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-digest.txt', Body: 'hello', ...checksum }),
      ),
    );

    // Assess
    expect(result).toEqual({ name: 'BadDigest', status: 400 });
    expect(await exists('bad-digest.txt')).toBe(false);
  });

  it.each([
    ['matches', 'hello', 200, undefined],
    ['does not match', 'hellx', 400, 'BadDigest'],
  ])(
    'checks an x-amz-checksum-crc32 carried in a presigned PUT URL: a body that %s',
    async (_, body, status, code) => {
      // Prepare: the checksum is hoisted into the query and signed with it.
      const key = `presigned-crc32-${status}.txt`;
      const url = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket: BUCKET, Key: key, ChecksumCRC32: 'NhCmhg==' }),
        { expiresIn: 60 },
      );
      expect(new URL(url).searchParams.get('x-amz-checksum-crc32')).toBe('NhCmhg==');

      // Act
      const res = await fetch(url, { method: 'PUT', body });

      // Assess
      expect(res.status).toBe(status);
      expect(errorCode(await res.text())).toBe(code);
      expect(await exists(key)).toBe(status === 200);
    },
  );

  it('refuses a streamed upload whose CRC32 trailer does not match the bytes, and stores nothing', async () => {
    // Prepare: the SDK's own aws-chunked body, one byte changed after signing; the trailer
    // still holds the CRC32 of the original bytes.
    const changing = clientChanging((request) => {
      const original = request.body as Readable;
      request.body = original.map((chunk: Buffer) =>
        Buffer.from(chunk.toString('latin1').replace('streamed', 'streamex'), 'latin1'),
      );
    });
    const Body = Readable.from([Buffer.from('streamed '), Buffer.from('body')]);

    // Act
    const result = await failure(
      changing.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-trailer.txt', Body, ContentLength: 13 }),
      ),
    );

    // Assess
    expect(result).toEqual({ name: 'BadDigest', status: 400 });
    expect(await exists('bad-trailer.txt')).toBe(false);
    changing.destroy();
  });
});

describe('local S3: multipart uploads with a full-object checksum', () => {
  it('completes an upload whose CompleteMultipartUpload carries the whole object CRC32', async () => {
    // Prepare
    const Key = 'multipart-crc32.txt';
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        ChecksumAlgorithm: 'CRC32',
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    const part = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        PartNumber: 1,
        Body: 'hello',
        ChecksumAlgorithm: 'CRC32',
      }),
    );

    // Act: the checksum describes the object ("hello"), not the XML body of the request.
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        ChecksumCRC32: 'NhCmhg==',
        ChecksumType: 'FULL_OBJECT',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
      }),
    );

    // Assess: the object, and its URL on this server (not s3rver's own port behind it).
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(await got.Body?.transformToString()).toBe('hello');
    expect(completed.Location).toBe(`${s3.endpoint}/${BUCKET}/${Key}`);
  });
});

/** A SigV4 signer for the local S3, as a client holds one. */
const signer = new SignatureV4({
  service: 's3',
  region: REGION,
  credentials: CREDENTIALS,
  sha256: Sha256,
  uriEscapePath: false,
});

/** A request to the local S3 on the raw `path`, to be signed. */
function localRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  query: Record<string, string | string[]> = {},
) {
  const endpoint = new URL(s3.endpoint);
  return new HttpRequest({
    method,
    protocol: 'http:',
    hostname: endpoint.hostname,
    port: Number(endpoint.port),
    path,
    query,
    headers: { host: endpoint.host, ...headers },
  });
}

/** A PUT of `key` to the local S3, to be signed. */
const putRequest = (key: string, headers: Record<string, string>, query: Record<string, string> = {}) =>
  localRequest('PUT', `/${BUCKET}/${key}`, headers, query);

/**
 * A URL presigned for `method` on the raw `path` (a name given twice in `query` as an
 * array), each query part percent-encoded as a client sends it.
 */
async function presignedUrl(method: string, path: string, query: Record<string, string | string[]> = {}) {
  const signed = await signer.presign(
    localRequest(method, path, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, query),
    { expiresIn: 60 },
  );
  const search = Object.entries(signed.query ?? {})
    .flatMap(([name, value]) =>
      [value].flat().map((v) => `${encodeURIComponent(name)}=${encodeURIComponent(String(v))}`),
    )
    .join('&');
  return `${s3.endpoint}${signed.path}?${search}`;
}

/** A PUT of `key` with `headers`, signed in its headers for the local S3. */
function signPut(key: string, headers: Record<string, string>, signingDate = new Date()) {
  return signer.sign(putRequest(key, headers), { signingDate });
}

describe('local S3: a checksum in a presigned PUT URL is read as the signature check reads the query', () => {
  /** The URL of a presigned PUT of `key` with `query`, each part percent-encoded. */
  async function presignedPut(key: string, query: Record<string, string>) {
    const signed = await signer.presign(
      putRequest(key, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, query),
      {
        expiresIn: 60,
      },
    );
    const search = Object.entries(signed.query ?? {})
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
      .join('&');
    return `${s3.endpoint}${signed.path}?${search}`;
  }

  it.each<{
    name: string;
    query: Record<string, string>;
    spell: (url: string) => string;
    body: string;
    status: number;
  }>([
    {
      // A raw "?" in an earlier value must not hide the checksum after it.
      name: 'a raw "?" in an earlier value',
      query: { a: 'x?', 'x-amz-checksum-crc32': 'NhCmhg==' },
      spell: (url: string) => url.replace('a=x%3F', 'a=x?'),
      body: 'WRONG',
      status: 400,
    },
    {
      // A raw "+" is a plus, as the signature check reads it, not a space (CRC32 of "body0").
      name: 'a raw "+" in the checksum',
      query: { 'x-amz-checksum-crc32': '0W+lig==' },
      spell: (url: string) => url.replace('0W%2Blig', '0W+lig'),
      body: 'body0',
      status: 200,
    },
  ])('$name', async ({ query, spell, body, status }) => {
    // Prepare
    const key = `presigned-spelling-${status}.txt`;
    const plain = await presignedPut(key, query);
    const url = spell(plain);
    expect(url).not.toBe(plain);

    // Act
    const res = await fetch(url, { method: 'PUT', body });

    // Assess
    expect(res.status).toBe(status);
    expect(await exists(key)).toBe(status === 200);
  });
});

describe('local S3: signed streaming uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

  /**
   * A PUT as the S3 docs describe it: the seed signature from the headers, then each chunk
   * signed (by @smithy/signature-v4) over the one before it.
   */
  async function streamingPut(key: string, parts: Buffer[], tamper?: (chunks: Buffer[]) => void) {
    const signingDate = new Date();
    const amzDate = signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');
    const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
    const data = [...parts, Buffer.alloc(0)];
    const framing = data.reduce((n, part) => n + part.length.toString(16).length + 83 + part.length + 2, 0);
    const request = await signPut(
      key,
      {
        'content-encoding': 'aws-chunked',
        'content-length': String(framing),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-decoded-content-length': String(parts.reduce((n, part) => n + part.length, 0)),
      },
      signingDate,
    );
    let previous = /Signature=([0-9a-f]{64})/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const chunks: Buffer[] = [];
    for (const part of data) {
      const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${sha256Hex('')}\n${sha256Hex(part)}`;
      previous = await signer.sign(stringToSign, { signingDate });
      chunks.push(
        Buffer.concat([
          Buffer.from(`${part.length.toString(16)};chunk-signature=${previous}\r\n`),
          part,
          Buffer.from('\r\n'),
        ]),
      );
    }
    tamper?.(chunks);
    const body = Buffer.concat(chunks);
    return fetch(`${s3.endpoint}${request.path}`, {
      method: 'PUT',
      headers: { ...request.headers, 'content-length': String(body.length) },
      body,
    });
  }

  it('stores the decoded bytes of a correctly signed upload', async () => {
    // Act
    const res = await streamingPut('signed-stream.txt', [Buffer.alloc(8192, 'a'), Buffer.from('tail')]);

    // Assess
    expect(res.status).toBe(200);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'signed-stream.txt' }));
    expect(await got.Body?.transformToString()).toBe(`${'a'.repeat(8192)}tail`);
  });

  it.each([
    ['a byte changed in a chunk', (chunks: Buffer[]) => chunks[0]?.fill('x', 1000, 1001)],
    [
      'chunk signatures that are all zeros',
      (chunks: Buffer[]) => {
        for (const [i, chunk] of chunks.entries())
          chunks[i] = Buffer.from(
            chunk
              .toString('latin1')
              .replace(/chunk-signature=[0-9a-f]{64}/, `chunk-signature=${'0'.repeat(64)}`),
            'latin1',
          );
      },
    ],
    [
      'the chunks in the wrong order',
      (chunks: Buffer[]) => chunks.splice(0, 2, chunks[1] as Buffer, chunks[0] as Buffer),
    ],
  ])('refuses an upload with %s with 403 and stores nothing', async (_, tamper) => {
    // Act
    const res = await streamingPut(
      'tampered-stream.txt',
      [Buffer.alloc(8192, 'a'), Buffer.from('tail')],
      tamper,
    );

    // Assess
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe('SignatureDoesNotMatch');
    expect(await exists('tampered-stream.txt')).toBe(false);
  });
});

describe('local S3: aws-chunked bodies that do not end as they must', () => {
  /** An unsigned-payload streaming PUT (as the SDK sends with a CRC32 trailer) of `body` as given. */
  async function chunkedPut(key: string, body: string) {
    const request = await signPut(key, {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': '5',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    return fetch(`${s3.endpoint}${request.path}`, { method: 'PUT', headers: request.headers, body });
  }
  // CRC32 of "hello", base64.
  const WHOLE = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n';

  it('stores a body that ends with its empty line', async () => {
    // Act
    const res = await chunkedPut('chunked-whole.txt', WHOLE);

    // Assess
    expect(res.status).toBe(200);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked-whole.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  });

  it.each([
    ['cut before its last empty line', WHOLE.slice(0, -2)],
    ['cut inside its trailer line', WHOLE.slice(0, -8)],
    ['with bytes after its last empty line', `${WHOLE}extra`],
  ])('refuses a body %s with 400 IncompleteBody and stores nothing', async (_, body) => {
    // Act
    const res = await chunkedPut('chunked-cut.txt', body);

    // Assess
    expect(res.status).toBe(400);
    expect(errorCode(await res.text())).toBe('IncompleteBody');
    expect(await exists('chunked-cut.txt')).toBe(false);
  });
});

describe('local S3: conditional reads, as S3 answers them', () => {
  let etag = '';
  let lastModified: Date;

  beforeAll(async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'conditional.txt', Body: 'v1' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'conditional.txt' }));
    etag = head.ETag ?? '';
    lastModified = head.LastModified ?? new Date(0);
  });

  const get = async (headers: Record<string, string>) => {
    const res = await fetch(await presignGet('conditional.txt'), { headers });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const later = () => new Date(lastModified.getTime() + 60_000).toUTCString();
  const earlier = () => new Date(lastModified.getTime() - 60_000).toUTCString();

  it.each<[string, number, () => Record<string, string>]>([
    ['If-Match with the ETag', 200, () => ({ 'if-match': etag })],
    ['If-Match with another ETag', 412, () => ({ 'if-match': '"other"' })],
    ['If-Match *', 200, () => ({ 'if-match': '*' })],
    ['If-Match with the weak ETag (strong comparison)', 412, () => ({ 'if-match': `W/${etag}` })],
    ['If-Unmodified-Since before the change', 412, () => ({ 'if-unmodified-since': earlier() })],
    ['If-Unmodified-Since after the change', 200, () => ({ 'if-unmodified-since': later() })],
    [
      'If-Match true beside If-Unmodified-Since false',
      200,
      () => ({ 'if-match': etag, 'if-unmodified-since': earlier() }),
    ],
    ['If-None-Match with the ETag', 304, () => ({ 'if-none-match': etag })],
    [
      'If-None-Match with the weak ETag (weak comparison)',
      304,
      () => ({ 'if-none-match': `"x", W/${etag}` }),
    ],
    ['If-None-Match with another ETag', 200, () => ({ 'if-none-match': '"other"' })],
    ['If-Modified-Since after the change', 304, () => ({ 'if-modified-since': later() })],
    ['If-Modified-Since before the change', 200, () => ({ 'if-modified-since': earlier() })],
    [
      'If-Modified-Since the very Last-Modified',
      304,
      () => ({ 'if-modified-since': lastModified.toUTCString() }),
    ],
    [
      'If-Unmodified-Since the very Last-Modified',
      200,
      () => ({ 'if-unmodified-since': lastModified.toUTCString() }),
    ],
    // Not HTTP-dates: RFC 9110 says to ignore them (Date.parse would read a year or a number).
    ['If-Modified-Since "2030"', 200, () => ({ 'if-modified-since': '2030' })],
    ['If-Modified-Since "not a date 2030"', 200, () => ({ 'if-modified-since': 'not a date 2030' })],
    ['If-Unmodified-Since "1"', 200, () => ({ 'if-unmodified-since': '1' })],
    [
      'If-None-Match false beside If-Modified-Since true',
      200,
      () => ({ 'if-none-match': '"other"', 'if-modified-since': later() }),
    ],
  ])('answers %s with %i', async (_, status, headers) => {
    // Act
    const res = await get(headers());

    // Assess
    expect(res.status).toBe(status);
    if (status === 200) expect(res.body).toBe('v1');
    if (status === 412) expect(errorCode(res.body)).toBe('PreconditionFailed');
    if (status === 304) {
      expect(res.body).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('last-modified')).toBe(lastModified.toUTCString());
    }
  });
});

describe('local S3: requests it cannot take', () => {
  it.each([
    ['GET', (key: string) => presignGet(key)],
    ['HEAD', (key: string) => presignHead(key)],
    [
      'DELETE',
      (key: string) =>
        getSignedUrl(client, new DeleteObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 60 }),
    ],
  ])(
    'drops the body of a signed %s: requests written inside it never reach s3rver, unsigned',
    async (method, sign) => {
      // Prepare: a signed URL for one object; inside a chunked body, a delete of another
      // object and an upload, which no signature covers.
      const key = `smuggle/${method}/signed.txt`;
      const kept = `smuggle/${method}/kept.txt`;
      const planted = `smuggle/${method}/planted.html`;
      for (const name of [key, kept]) {
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: name, Body: 'kept' }));
      }
      const url = new URL(await sign(key));
      const inner =
        `DELETE /${BUCKET}/${kept} HTTP/1.1\r\nHost: x\r\n\r\n` +
        `PUT /${BUCKET}/${planted} HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n<script>`;
      const body = `${Buffer.byteLength(inner).toString(16)}\r\n${inner}\r\n0\r\n\r\n`;

      // Act
      const answer = await exchangeRaw(
        s3.port,
        `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
      );

      // Assess: the signed request is answered as without a body; the others never ran.
      expect(answer).toMatch(method === 'DELETE' ? /^HTTP\/1.1 204 / : /^HTTP\/1.1 200 /);
      expect(await exists(kept)).toBe(true);
      expect(await exists(planted)).toBe(false);
      expect(await exists(key)).toBe(method !== 'DELETE');
    },
  );

  it.each([
    [
      'a header line with no colon',
      'GET /signet-local/digits.txt HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n',
      'BadRequest',
    ],
    ['a malformed request line', 'GET\r\n\r\n', 'BadRequest'],
    [
      'headers over 16 KB',
      `GET /signet-local/digits.txt HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'RequestHeaderSectionTooLarge',
    ],
  ])('answers %s (refused by the HTTP parser) 400 in S3 XML, then closes', async (_, raw, code) => {
    // Act
    const answer = await exchangeRaw(s3.port, raw);

    // Assess
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect(head).toMatch(/\r\nContent-Type: application\/xml\r\n/);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/);
    expect(head).toContain(`\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`);
    expect(errorCode(body)).toBe(code);
    // The server goes on serving.
    expect(
      (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' }))).ContentLength,
    ).toBe(10);
  });

  it('answers a CONNECT 405 MethodNotAllowed in S3 XML, naming the methods it takes, then closes', async () => {
    // Act
    const answer = await exchangeRaw(s3.port, 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');

    // Assess
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 405 Method Not Allowed\r\n/);
    expect(head).toMatch(/\r\nAllow: GET, HEAD, PUT, POST, DELETE\r\n/);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/);
    expect(errorCode(body)).toBe('MethodNotAllowed');
  });

  it('refuses a presigned URL with X-Amz-Signature given twice with 403, not 500', async () => {
    // Prepare
    const url = await presignGet('digits.txt');
    const signature = new URL(url).searchParams.get('X-Amz-Signature');

    // Act
    const res = await fetch(`${url}&X-Amz-Signature=${signature}`);

    // Assess
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe('AuthorizationQueryParametersError');
  });

  it('answers a key over 1024 bytes (segments under 255) 404 to reads and 400 KeyTooLongError to writes', async () => {
    // Prepare
    const key = Array.from({ length: 5 }, () => 'k'.repeat(250)).join('/');

    // Act
    const read = await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })));
    const write = await failure(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })));

    // Assess
    expect(Buffer.byteLength(key)).toBeGreaterThan(1024);
    expect(read).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(write).toEqual({ name: 'KeyTooLongError', status: 400 });
  });
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

  it.each(['bytes=10-', 'bytes=-0', 'bytes=10-20'])(
    'answers an unsatisfiable Range %s with 416 InvalidRange and the size in Content-Range',
    async (range) => {
      const res = await fetch(await presignGet('digits.txt'), { headers: { range } });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe('bytes */10');
      expect(errorCode(await res.text())).toBe('InvalidRange');
    },
  );

  it.each(['bytes=0-0', 'bytes=0-', 'bytes=-3', 'bytes=0-100'])(
    'answers Range %s on an empty object with 416 at once (s3rver would promise a byte and hang)',
    async (range) => {
      // Prepare
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'empty.txt', Body: '' }));

      // Act
      const res = await fetch(await presignGet('empty.txt'), { headers: { range } });

      // Assess
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe('bytes */0');
      expect(errorCode(await res.text())).toBe('InvalidRange');
    },
  );

  it.each([
    [
      'GetObjectTagging',
      () => getSignedUrl(client, new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'digits.txt' })),
      '<Tagging',
    ],
    [
      'ListObjects',
      () => getSignedUrl(client, new ListObjectsCommand({ Bucket: BUCKET })),
      '<ListBucketResult',
    ],
    [
      'ListObjectsV2',
      () => getSignedUrl(client, new ListObjectsV2Command({ Bucket: BUCKET })),
      '<ListBucketResult',
    ],
  ])(
    'does not apply a Range to %s (Range belongs to GetObject and HeadObject)',
    async (_, presign, start) => {
      // Prepare
      const url = await presign();

      // Act
      const past = await fetch(url, { headers: { range: 'bytes=100000-' } });
      const first = await fetch(url, { headers: { range: 'bytes=0-0' } });

      // Assess
      expect(past.status).toBe(200);
      expect(await past.text()).toContain(start);
      expect(first.status).toBe(200);
      expect(await first.text()).toContain(start);
    },
  );

  it('answers a HEAD with bytes=0-0 with 206 and the length of that byte', async () => {
    // Act
    const res = await fetch(await presignHead('digits.txt'), {
      method: 'HEAD',
      headers: { range: 'bytes=0-0' },
    });

    // Assess
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 0-0/10');
    expect(res.headers.get('content-length')).toBe('1');
  });

  it('sends exactly one byte for bytes=0-0, so the next answer on the connection starts clean', async () => {
    // Prepare
    const url = new URL(await presignGet('digits.txt'));
    const get = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;

    // Act
    const answer = await exchangeRaw(
      s3.port,
      `${get}Range: bytes=0-0\r\n\r\n${get}Connection: close\r\n\r\n`,
    );

    // Assess
    expect(answer).toMatch(/^HTTP\/1.1 206 [\s\S]*?\r\n\r\n0HTTP\/1.1 200 [\s\S]*?\r\n\r\n0123456789$/);
  });

  it('answers If-None-Match on a GetObject with partNumber with 304 and its ETag', async () => {
    // Prepare
    const { ETag: etag } = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' }));
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', PartNumber: 1 }),
    );

    // Act
    const res = await fetch(url, { headers: { 'if-none-match': etag ?? '' } });

    // Assess
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(etag);
  });

  it('answers bytes=0-0 of a one-byte object with 206 and that byte', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'one.txt', Body: 'x' }));

    // Act
    const res = await fetch(await presignGet('one.txt'), { headers: { range: 'bytes=0-0' } });

    // Assess
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 0-0/1');
    expect(await res.text()).toBe('x');
  });

  describe('If-Range (RFC 9110 §13.1.5)', () => {
    let etag: string;
    let lastModified: string;

    beforeAll(async () => {
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'digits.txt' }));
      etag = head.ETag ?? '';
      lastModified = head.LastModified?.toUTCString() ?? '';
    });

    it.each([
      ['the current ETag', () => etag, 206],
      // A date is no strong validator: two versions written within a second share it.
      ['the current Last-Modified', () => lastModified, 200],
      ['another ETag', () => '"0123456789abcdef0123456789abcdef"', 200],
      ['the current ETag, weak', () => `W/${etag}`, 200],
      ['another date', () => 'Mon, 01 Jan 2001 00:00:00 GMT', 200],
      ['something that is neither', () => 'yesterday', 200],
    ])('with %s: the range stands (206) or the whole object comes (200)', async (_, ifRange, status) => {
      // Act
      const res = await fetch(await presignGet('digits.txt'), {
        headers: { range: 'bytes=0-1', 'if-range': ifRange() },
      });

      // Assess
      expect(res.status).toBe(status);
      expect(await res.text()).toBe(status === 206 ? '01' : BODY);
    });
  });

  it('honours a Range on a GetObject that carries a parameter of no operation (a cache-buster)', async () => {
    // Act
    const res = await fetch(await presignedUrl('GET', `/${BUCKET}/digits.txt`, { v: '2' }), {
      headers: { range: 'bytes=2-4' },
    });

    // Assess
    expect(res.status).toBe(206);
    expect(await res.text()).toBe('234');
  });

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
  it('takes a delete and a write into the same folder at once (s3rver removed the folder under the write, and crashed)', async () => {
    for (let round = 0; round < 40; round++) {
      // Prepare
      const folder = `race/${round}`;
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${folder}/a`, Body: 'a' }));

      // Act
      await Promise.all([
        client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${folder}/a` })),
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${folder}/b`, Body: 'b' })),
      ]);

      // Assess
      expect(await exists(`${folder}/a`)).toBe(false);
      expect(await exists(`${folder}/b`)).toBe(true);
    }
  });

  it('refuses a body over its limit with 400 EntityTooLarge (plain or aws-chunked), and keeps the old object', async () => {
    // Prepare: a stand-in of its own with a 1 KiB limit.
    const dir = await mkdtemp(join(tmpdir(), 'signet-local-s3-limit-'));
    const small = await startLocalS3({
      directory: dir,
      credentials: CREDENTIALS,
      region: REGION,
      buckets: [BUCKET],
      maxBodyBytes: 1024,
    });
    const smallClient = new S3Client({
      region: REGION,
      endpoint: small.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await smallClient.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k.txt', Body: 'old' }));

      // Act
      const declared = await failure(
        smallClient.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k.txt', Body: 'x'.repeat(2048) })),
      );
      const chunked = await failure(
        smallClient.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: 'k.txt',
            Body: Readable.from([Buffer.alloc(800, 'a'), Buffer.alloc(800, 'b')]),
            ContentLength: 1600,
          }),
        ),
      );

      // Assess
      expect(declared).toEqual({ name: 'EntityTooLarge', status: 400 });
      expect(chunked).toEqual({ name: 'EntityTooLarge', status: 400 });
      const got = await smallClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k.txt' }));
      expect(await got.Body?.transformToString()).toBe('old');
      // A body on a read is dropped, and bounded by the same limit.
      const url = new URL(
        await getSignedUrl(smallClient, new GetObjectCommand({ Bucket: BUCKET, Key: 'k.txt' }), {
          expiresIn: 60,
        }),
      );
      const readWith = (bytes: number) =>
        exchangeRaw(
          small.port,
          `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${bytes}\r\n` +
            `Connection: close\r\n\r\n${'x'.repeat(bytes)}`,
        );
      expect(await readWith(1024)).toMatch(/^HTTP\/1.1 200 [\s\S]*\r\n\r\nold$/);
      const over = await readWith(2048);
      expect(over).toMatch(/^HTTP\/1.1 400 /);
      expect(errorCode(over)).toBe('EntityTooLarge');
    } finally {
      smallClient.destroy();
      await small.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform === 'linux')(
    'opens one TCP port, its front: s3rver, which checks no signature, listens on a private socket, removed on close',
    async () => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'signet-local-s3-ports-'));
      const before = await ownListeners();
      const local = await startLocalS3({
        directory: dir,
        credentials: CREDENTIALS,
        region: REGION,
        buckets: [BUCKET],
      });
      try {
        // Act
        const after = await ownListeners();
        const tcp = after.tcp.filter((port) => !before.tcp.includes(port));
        const unix = after.unix.filter((path) => !before.unix.includes(path));

        // Assess
        expect(tcp).toEqual([local.port]);
        expect(unix).toHaveLength(1);
        const folder = dirname(unix[0] ?? '');
        expect(((await stat(folder)).mode & 0o777).toString(8)).toBe('700');
        await local.close();
        expect(existsSync(folder)).toBe(false);
      } finally {
        await local.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it.runIf(process.platform === 'linux')(
    'puts the socket under /tmp when TMPDIR is too long for a socket path (Linux cuts it at 108 bytes)',
    async () => {
      // Prepare: a TMPDIR of over 100 bytes.
      const long = await mkdtemp(join(tmpdir(), `signet-long-${'d'.repeat(100)}-`));
      const dir = await mkdtemp(join(tmpdir(), 'signet-local-s3-long-'));
      const saved = process.env.TMPDIR;
      const before = await ownListeners();
      process.env.TMPDIR = long;
      try {
        // Act
        const local = await startLocalS3({
          directory: dir,
          credentials: CREDENTIALS,
          region: REGION,
          buckets: [BUCKET],
        });
        const unix = (await ownListeners()).unix.filter((path) => !before.unix.includes(path));
        const answer = await fetch(`${local.endpoint}/${BUCKET}/`);
        await local.close();

        // Assess: it runs, its socket whole, in a folder of its own under /tmp.
        expect(unix).toEqual([expect.stringMatching(/^\/tmp\/signet-s3-[^/]+\/s3rver$/)]);
        expect(answer.status).toBe(403);
        expect(existsSync(dirname(unix[0] ?? ''))).toBe(false);
        expect(await readdir(long)).toEqual([]);
      } finally {
        // An unset variable given `undefined` would be the text "undefined".
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
        await rm(long, { recursive: true, force: true });
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it.runIf(process.platform !== 'win32')(
    'removes its socket folder when the process exits without a stop',
    async () => {
      // Prepare: a process that starts the local S3 in a TMPDIR of its own, then exits.
      const own = await mkdtemp(join(tmpdir(), 'signet-local-s3-exit-'));
      const script = [
        `import { startLocalS3 } from ${JSON.stringify(join(import.meta.dirname, '../../infra/local/s3.ts'))};`,
        `await startLocalS3(${JSON.stringify({ directory: join(own, 'data'), credentials: CREDENTIALS, region: REGION, buckets: [BUCKET] })});`,
        "const { readdirSync } = await import('node:fs');",
        'console.log(JSON.stringify(readdirSync(process.env.TMPDIR)));',
        'process.exit(1);',
      ].join('\n');
      try {
        // Act
        const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          env: { ...process.env, TMPDIR: own },
          encoding: 'utf8',
        });

        // Assess: the folder was there while it ran, and is gone.
        expect(child.status).toBe(1);
        expect(JSON.parse(child.stdout)).toEqual(
          expect.arrayContaining([expect.stringMatching(/^signet-s3-/)]),
        );
        expect((await readdir(own)).filter((name) => name.startsWith('signet-s3-'))).toEqual([]);
      } finally {
        await rm(own, { recursive: true, force: true });
      }
    },
  );

  it('holds one exit listener for all its socket folders, however many stand-ins run', async () => {
    // Prepare
    const before = process.listenerCount('exit');
    const dirs = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'signet-local-s3-many-'))));
    const started = await Promise.all(
      dirs.map((directory) =>
        startLocalS3({ directory, credentials: CREDENTIALS, region: REGION, buckets: [BUCKET] }),
      ),
    );
    try {
      // Act
      const running = process.listenerCount('exit');
      await Promise.all(started.map((local) => local.close()));

      // Assess
      expect(running - before).toBeLessThanOrEqual(1);
      expect(process.listenerCount('exit')).toBe(before);
    } finally {
      await Promise.all(started.map((local) => local.close().catch(() => undefined)));
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });

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

/** The TCP ports and the socket paths this process listens on (Linux: its sockets' inodes in /proc/net). */
async function ownListeners(): Promise<{ tcp: number[]; unix: string[] }> {
  const inodes = new Set<string>();
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const rows = async (table: string) =>
    (await readFile(table, 'utf8').catch(() => ''))
      .split('\n')
      .slice(1)
      .map((row) => row.trim().split(/\s+/));
  const tcp: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const [, local, , state, , , , , , inode] of await rows(table)) {
      // State 0A is LISTEN; the local address ends in the port, in hex.
      if (state === '0A' && inode && inodes.has(inode))
        tcp.push(Number.parseInt(local?.split(':')[1] ?? '', 16));
    }
  }
  const unix: string[] = [];
  for (const [, , , flags, , , inode, path] of await rows('/proc/net/unix')) {
    // Flag 00010000 is a listening socket.
    if (flags === '00010000' && inode && inodes.has(inode) && path) unix.push(path);
  }
  return { tcp, unix };
}
