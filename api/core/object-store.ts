import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  MisconfiguredError,
  NotFoundError,
  type StorageAnswer,
  StorageDeniedError,
  UnavailableError,
} from './errors.ts';

/** What Signet needs to know about an object before it signs a link to it. */
export interface ObjectInfo {
  readonly size: number | undefined;
  readonly contentType: string | undefined;
  /** `x-amz-meta-filename`, as S3 returned it (may be RFC 2047 encoded). */
  readonly filename: string | undefined;
  /** Archived and not restored: S3 refuses to serve its bytes. */
  readonly archived?: 'archived' | 'restoring' | undefined;
}

/** Port: the private bucket. */
export interface ObjectStore {
  /** Throws NotFoundError, UnavailableError or MisconfiguredError; never anything else. */
  head(key: string): Promise<ObjectInfo>;
}

/** Network faults that mean "try again", as the SDK and Node report them. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
]);

interface SdkFault {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
}

function storageAnswer(fault: SdkFault): StorageAnswer {
  return {
    s3Error: fault.name,
    s3Status: fault.$metadata?.httpStatusCode,
    s3RequestId: fault.$metadata?.requestId,
    s3ExtendedRequestId: fault.$metadata?.extendedRequestId,
  };
}

/**
 * Statuses S3 answers a HEAD with when the gateway is set up wrong, which no retry mends: 301
 * (the bucket is in another region), 400 (a request S3 cannot take: a malformed
 * authorization, a bad bucket name; a HEAD has no body to time out on) and 405. A HEAD's
 * error has no body, so its name is often only `Unknown`: the status decides.
 */
const DEPLOYMENT_FAULTS = new Set([301, 400, 405]);

/**
 * Maps an S3 fault to a Signet error, each branch on purpose:
 * - 404 (`NotFound`): no such object;
 * - 403: also no such object, as far as the caller knows (StorageDeniedError: ops see
 *   what S3 said);
 * - 429, 503 `SlowDown`, 5xx, timeouts and connection faults: unavailable, retry;
 * - 301, 400, 405: a deployment fault, which no retry mends (MisconfiguredError, a 500
 *   logged as an error);
 * - anything else, a 307 while a new bucket's name spreads or a 409 `OperationAborted`
 *   among them, and anything without an HTTP status: unavailable, retry.
 */
export function mapS3Fault(error: unknown): NotFoundError | UnavailableError | MisconfiguredError {
  const fault = (error ?? {}) as SdkFault;
  const status = fault.$metadata?.httpStatusCode;
  if (status === 404 || fault.name === 'NotFound' || fault.name === 'NoSuchKey') {
    return new NotFoundError('no such object');
  }
  if (status === 403) return new StorageDeniedError(storageAnswer(fault));
  if (status === 429 || status === 503 || fault.name === 'SlowDown' || fault.name === 'ThrottlingException') {
    return new UnavailableError('storage is throttling requests', 2, { cause: error });
  }
  if ((fault.name && TRANSIENT_CODES.has(fault.name)) || (fault.code && TRANSIENT_CODES.has(fault.code))) {
    return new UnavailableError('storage did not answer in time', 1, { cause: error });
  }
  if (status !== undefined && DEPLOYMENT_FAULTS.has(status)) {
    return new MisconfiguredError(
      'storage refused the request as the gateway is set up',
      storageAnswer(fault),
    );
  }
  return new UnavailableError('storage is unavailable', 5, { cause: error });
}

/** Storage classes whose objects must be restored before a GET (Glacier Instant Retrieval need not). */
const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/**
 * Whether S3 would refuse a GET of the object: in an archive storage class or an
 * Intelligent-Tiering archive tier (`ArchiveStatus`), without a restored copy (`Restore`
 * says `ongoing-request="false"` once one is ready; `"true"` while it is being made).
 */
export function archiveState(head: {
  StorageClass?: string | undefined;
  ArchiveStatus?: string | undefined;
  Restore?: string | undefined;
}): ObjectInfo['archived'] {
  if (!ARCHIVE_CLASSES.has(head.StorageClass ?? '') && head.ArchiveStatus === undefined) return undefined;
  const restore = head.Restore ?? '';
  if (/ongoing-request="false"/.test(restore)) return undefined;
  return /ongoing-request="true"/.test(restore) ? 'restoring' : 'archived';
}

/** The ObjectStore over S3 `HeadObject` (needs `s3:GetObject` on the keys). */
export class S3ObjectStore implements ObjectStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
  }

  async head(key: string): Promise<ObjectInfo> {
    try {
      const out = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return {
        size: out.ContentLength,
        contentType: out.ContentType,
        filename: out.Metadata?.filename,
        archived: archiveState(out),
      };
    } catch (error) {
      throw mapS3Fault(error);
    }
  }
}
