/**
 * Typed errors with stable codes. The core throws these; `problem.ts` is the one place
 * that maps a code to an HTTP status and an RFC 9457 body. Tests assert `code`, never text.
 */
export abstract class SignetError extends Error {
  abstract readonly code: string;

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request itself is malformed: key, parameter or body. */
export class BadRequestError extends SignetError {
  readonly code = 'BAD_REQUEST';
}

/** No usable credential: missing, malformed, bad signature, expired, wrong iss/aud. */
export class UnauthorizedError extends SignetError {
  readonly code = 'UNAUTHORIZED';
}

/** A valid caller without the scope the operation needs. */
export class InsufficientScopeError extends SignetError {
  readonly code = 'INSUFFICIENT_SCOPE';
  constructor(readonly scope: string) {
    super(`this operation needs the scope "${scope}"`);
  }
}

/** A valid caller asking for a key outside its prefixes. */
export class ForbiddenKeyError extends SignetError {
  readonly code = 'FORBIDDEN_KEY';
}

/** No such object (including S3's 403 for a missing key without s3:ListBucket). */
export class NotFoundError extends SignetError {
  readonly code = 'NOT_FOUND';
}

/** What the storage answered, for the logs: never for a response body. */
export interface StorageAnswer {
  /** The AWS error name; `Unknown` or absent for an answer without a body (any HEAD). */
  readonly s3Error: string | undefined;
  readonly s3Status: number | undefined;
  /** S3's request ids: what AWS support can trace. */
  readonly s3RequestId: string | undefined;
  readonly s3ExtendedRequestId: string | undefined;
}

/**
 * S3 said 403. To the caller, no such object (without s3:ListBucket S3 says 403 for a
 * missing key, and a caller must not learn the difference); to ops, what S3 said, since a
 * role or bucket policy at fault looks the same.
 */
export class StorageDeniedError extends NotFoundError {
  constructor(readonly answer: StorageAnswer) {
    super('no such object');
  }
}

/**
 * A dependency refused the request as Signet is set up (S3 answering 400 or 301 for a
 * wrong region or bucket): a deployment fault. Retrying cannot help, so it is no 503.
 */
export class MisconfiguredError extends SignetError {
  readonly code = 'MISCONFIGURED';
  constructor(
    message: string,
    readonly answer: StorageAnswer,
  ) {
    super(message);
  }
}

/**
 * The object exists but cannot be read now: archived (S3 Glacier Flexible Retrieval, Deep
 * Archive, an Intelligent-Tiering archive tier) and not restored. A signed URL to it would
 * only fail (S3's 403 `InvalidObjectState`).
 */
export class ArchivedError extends SignetError {
  readonly code = 'ARCHIVED';
}

/** A dependency (storage, database, JWKS) is down, slow or throttling. Retry later. */
export class UnavailableError extends SignetError {
  readonly code = 'UNAVAILABLE';
  constructor(
    message: string,
    /** Seconds the client should wait before retrying. */
    readonly retryAfterSeconds = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A setting is missing or invalid; thrown once, at cold start. */
export class ConfigError extends SignetError {
  readonly code = 'CONFIG';
}
