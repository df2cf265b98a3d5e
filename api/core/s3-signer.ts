import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  ChecksumConstructor,
  HashConstructor,
} from '@smithy/types';
import { UnavailableError } from './errors.ts';
import { encodeKeyPath, type Signer, type SignInput, type SigningWindow, strictEncode } from './signing.ts';

export interface S3SignerOptions {
  readonly bucket: string;
  readonly region: string;
  /** Custom endpoint (path-style), e.g. the local stand-in. Default: the regional S3 endpoint. */
  readonly endpoint?: URL | undefined;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly sha256: ChecksumConstructor | HashConstructor;
  /** URL lifetime in seconds. */
  readonly ttlSeconds: number;
}

/**
 * `via=s3`: a SigV4 presigned GET with `response-content-disposition`. It signs a request
 * it prepares itself with `S3RequestPresigner`, skipping `getSignedUrl`'s per-call
 * middleware stack and endpoint resolution (most of its cost).
 */
export class S3Signer implements Signer {
  readonly via = 's3' as const;
  readonly #presigner: S3RequestPresigner;
  readonly #protocol: string;
  readonly #hostname: string;
  readonly #port: number | undefined;
  readonly #pathPrefix: string;
  readonly #ttlSeconds: number;
  readonly #credentials: AwsCredentialIdentityProvider;
  #identity: AwsCredentialIdentity | undefined;

  constructor(options: S3SignerOptions) {
    const { credentials } = options;
    this.#credentials = typeof credentials === 'function' ? credentials : async () => credentials;
    this.#presigner = new S3RequestPresigner({
      // Plain `presign` through the cache below: `presignWithCredentials` is the S3 Express
      // path (it sends `X-Amz-S3session-Token`, "undefined" without a token), not SigV4.
      credentials: () => this.#identityFor(new Date()),
      region: options.region,
      sha256: options.sha256,
    });
    this.#ttlSeconds = options.ttlSeconds;
    if (options.endpoint) {
      this.#protocol = options.endpoint.protocol;
      this.#hostname = options.endpoint.hostname;
      this.#port = options.endpoint.port ? Number(options.endpoint.port) : undefined;
      this.#pathPrefix = `/${options.bucket}/`;
    } else if (options.bucket.includes('.')) {
      // A dotted bucket breaks the TLS wildcard of virtual-hosted names: use path-style.
      this.#protocol = 'https:';
      this.#hostname = `s3.${options.region}.amazonaws.com`;
      this.#port = undefined;
      this.#pathPrefix = `/${options.bucket}/`;
    } else {
      this.#protocol = 'https:';
      this.#hostname = `${options.bucket}.s3.${options.region}.amazonaws.com`;
      this.#port = undefined;
      this.#pathPrefix = '/';
    }
  }

  async sign({ key, contentDisposition }: SignInput, { signedAt }: SigningWindow): Promise<string> {
    const request = new HttpRequest({
      method: 'GET',
      protocol: this.#protocol,
      hostname: this.#hostname,
      ...(this.#port === undefined ? {} : { port: this.#port }),
      path: this.#pathPrefix + encodeKeyPath(key),
      query: { 'response-content-disposition': contentDisposition },
      headers: {},
    });
    const signed = await this.#presigner.presign(request, {
      signingDate: signedAt,
      expiresIn: this.#ttlSeconds,
    });
    const host = this.#port === undefined ? this.#hostname : `${this.#hostname}:${this.#port}`;
    const query = Object.entries(signed.query ?? {})
      .map(([name, value]) => `${strictEncode(name)}=${strictEncode(String(value))}`)
      .join('&');
    return `${this.#protocol}//${host}${signed.path}?${query}`;
  }

  /**
   * The credentials to sign with, resolved once and reused while they outlive the URL: a
   * presigned URL dies with the temporary credentials that signed it. Asking the provider
   * on every call costs as much as the signature itself.
   */
  async #identityFor(now: Date): Promise<AwsCredentialIdentity> {
    const identity = this.#identity;
    // A URL signed now (for a window that started at or before now) dies by now + ttl.
    const needed = now.getTime() + (this.#ttlSeconds + 60) * 1000;
    if (identity && (!identity.expiration || identity.expiration.getTime() > needed)) return identity;
    try {
      this.#identity = await this.#credentials();
    } catch (error) {
      throw new UnavailableError('signing credentials are unavailable', 5, { cause: error });
    }
    return this.#identity;
  }
}
