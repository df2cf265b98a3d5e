import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, UnavailableError } from './errors.ts';

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
  /** Throws NotFoundError or UnavailableError; never anything else. */
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
  $metadata?: { httpStatusCode?: number };
}

/**
 * Maps an S3 fault to a Signet error, each branch on purpose:
 * - 404 (`NotFound`): no such object;
 * - 403: also no such object, as far as the caller knows (without s3:ListBucket S3 says
 *   403 for a missing key, and a caller must not learn the difference);
 * - 429, 503 `SlowDown`, 5xx, timeouts and connection faults: unavailable, retry;
 * - anything else (400, 301 wrong region, ...): a deployment fault, unavailable too, so
 *   the caller sees 503 and ops see the logged cause.
 */
export function mapS3Fault(error: unknown): NotFoundError | UnavailableError {
  const fault = (error ?? {}) as SdkFault;
  const status = fault.$metadata?.httpStatusCode;
  if (status === 404 || fault.name === 'NotFound' || fault.name === 'NoSuchKey') {
    return new NotFoundError('no such object');
  }
  // The cause is kept (and logged by the route) so that a broken role or policy shows.
  if (status === 403) return new NotFoundError('no such object', { cause: error });
  if (status === 429 || status === 503 || fault.name === 'SlowDown' || fault.name === 'ThrottlingException') {
    return new UnavailableError('storage is throttling requests', 2, { cause: error });
  }
  if ((fault.name && TRANSIENT_CODES.has(fault.name)) || (fault.code && TRANSIENT_CODES.has(fault.code))) {
    return new UnavailableError('storage did not answer in time', 1, { cause: error });
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
