import { HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { MisconfiguredError, NotFoundError, UnavailableError } from '../../api/core/errors.ts';
import { mapS3Fault, S3ObjectStore } from '../../api/core/object-store.ts';

const BUCKET = 'signet-test';
const s3 = mockClient(S3Client);
const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }), BUCKET);

/** An error shaped like the SDK's: a name and `$metadata.httpStatusCode`. */
function sdkError(name: string, httpStatusCode?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`AWS says: ${name} arn:aws:s3:::${BUCKET}`), {
    name,
    $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
    ...extra,
  });
}

function serviceError(name: string, httpStatusCode: number, $fault: 'client' | 'server'): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault,
    $metadata: { httpStatusCode },
    message: `AWS says: ${name}`,
  });
}

describe('S3ObjectStore.head', () => {
  beforeEach(() => {
    s3.reset();
  });

  it('returns the object info, with the filename metadata', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 1234,
      ContentType: 'application/pdf',
      Metadata: { filename: '=?UTF-8?B?w6l0w6kucGRm?=' },
      $metadata: { httpStatusCode: 200 },
    });

    // Act
    const info = await store.head('users/alice/report 2024+final.pdf');

    // Assess
    expect(info).toEqual({
      size: 1234,
      contentType: 'application/pdf',
      filename: '=?UTF-8?B?w6l0w6kucGRm?=',
    });
    expect(s3).toReceiveCommandExactlyOnceWith(HeadObjectCommand, {
      Bucket: BUCKET,
      Key: 'users/alice/report 2024+final.pdf',
    });
  });

  it('returns undefined fields when S3 says nothing about them', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ $metadata: { httpStatusCode: 200 } });

    // Act
    const info = await store.head('public/a.pdf');

    // Assess
    expect(info).toEqual({ size: undefined, contentType: undefined, filename: undefined });
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: 'public/a.pdf' });
  });

  it.each([
    [
      '404 NotFound (SDK class)',
      () => new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }),
    ],
    ['404 NotFound (shaped error)', () => sdkError('NotFound', 404)],
    ['NoSuchKey', () => sdkError('NoSuchKey', 404)],
    ['a bare 404', () => sdkError('UnknownError', 404)],
    ['403 without s3:ListBucket', () => sdkError('Forbidden', 403)],
    ['403 AccessDenied (SDK class)', () => serviceError('AccessDenied', 403, 'client')],
  ])('maps %s to NOT_FOUND', async (_, error) => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(error());

    // Act
    const head = store.head('public/missing.pdf');

    // Assess
    await expect(head).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.head('public/missing.pdf')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: 'public/missing.pdf' });
  });

  it.each([
    ['503 SlowDown', () => serviceError('SlowDown', 503, 'server'), 2],
    ['503 without a name', () => sdkError('Unknown', 503), 2],
    ['429', () => sdkError('TooManyRequests', 429), 2],
    ['ThrottlingException', () => sdkError('ThrottlingException', 400), 2],
    ['a TimeoutError', () => sdkError('TimeoutError'), 1],
    [
      'ECONNRESET',
      () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} }),
      1,
    ],
    ['ECONNREFUSED', () => Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }), 1],
    ['an AbortError', () => sdkError('AbortError'), 1],
    ['500 InternalError', () => serviceError('InternalError', 500, 'server'), 5],
    ['a plain TypeError', () => new TypeError('x is not a function'), 5],
    // Temporary, as AWS documents them: a new bucket's name still spreading, a conflicting
    // operation under way.
    ['a bare 307 (HEAD)', () => sdkError('Unknown', 307), 5],
    ['409 OperationAborted', () => sdkError('OperationAborted', 409), 5],
    ['a bare 409 (HEAD)', () => sdkError('Unknown', 409), 5],
  ])('maps %s to UNAVAILABLE (retry after %s s)', async (_, error, retryAfterSeconds) => {
    // Prepare
    const fault = error();
    s3.on(HeadObjectCommand).rejects(fault);

    // Act
    const head = store.head('public/a.pdf');

    // Assess
    await expect(head).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.head('public/a.pdf')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryAfterSeconds,
      cause: fault,
    });
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: 'public/a.pdf' });
  });

  it.each([
    ['an unknown 400', () => sdkError('InvalidArgument', 400), 400],
    // As a HEAD's error reaches the code: no body, so no name but `Unknown`.
    ['a bare 400 (HEAD)', () => sdkError('Unknown', 400), 400],
    ['301 wrong region', () => sdkError('PermanentRedirect', 301), 301],
    ['a bare 301 (HEAD)', () => sdkError('Unknown', 301), 301],
    ['a bare 405 (HEAD)', () => sdkError('Unknown', 405), 405],
    [
      '400 AuthorizationHeaderMalformed (SDK class)',
      () => serviceError('AuthorizationHeaderMalformed', 400, 'client'),
      400,
    ],
  ])('maps %s to MISCONFIGURED, which no retry mends', async (_, error, status) => {
    // Prepare
    const fault = error();
    s3.on(HeadObjectCommand).rejects(fault);

    // Act
    const head = store.head('public/a.pdf');

    // Assess
    await expect(head).rejects.toBeInstanceOf(MisconfiguredError);
    await expect(store.head('public/a.pdf')).rejects.toMatchObject({
      code: 'MISCONFIGURED',
      answer: {
        s3Error: fault.name,
        s3Status: status,
      },
    });
  });

  it('keeps what S3 said on a 403, for the logs, behind NOT_FOUND', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(
      sdkError('AccessDenied', 403, {
        $metadata: { httpStatusCode: 403, requestId: 'R3QU35T', extendedRequestId: 'ExT=' },
      }),
    );

    // Act
    const head = store.head('public/a.pdf');

    // Assess
    await expect(head).rejects.toMatchObject({
      code: 'NOT_FOUND',
      answer: { s3Error: 'AccessDenied', s3Status: 403, s3RequestId: 'R3QU35T', s3ExtendedRequestId: 'ExT=' },
    });
  });

  it('does not carry the AWS message into its own', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(sdkError('SlowDown', 503));

    // Act
    const head = store.head('public/a.pdf');

    // Assess
    await expect(head).rejects.toSatisfy((error: Error) => !error.message.includes('AWS says'));
  });
});

describe('mapS3Fault', () => {
  it.each([
    ['NotFound', { name: 'NotFound' }],
    ['NoSuchKey', { name: 'NoSuchKey' }],
  ])('maps a %s fault without an HTTP status to NOT_FOUND, not a retry', (_, fault) => {
    // Act
    const error = mapS3Fault(fault);

    // Assess
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each([[undefined], [null], ['a string'], [42]])('maps a non-error %j to UNAVAILABLE', (fault) => {
    // Act
    const error = mapS3Fault(fault);

    // Assess
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
  });
});
