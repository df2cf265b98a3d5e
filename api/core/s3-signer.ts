import type { S3Client } from '@aws-sdk/client-s3';
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
  /** Where the bucket's keys start, as `bucketUrl` resolves it. */
  readonly bucketUrl: URL;
  /** The bucket's region, the one the URL is signed for. */
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly sha256: ChecksumConstructor | HashConstructor;
  /** URL lifetime in seconds. */
  readonly ttlSeconds: number;
}

/** Where the bucket is reached: a custom endpoint (path-style), FIPS, dual-stack. */
export interface BucketEndpointOptions {
  readonly endpoint?: URL | undefined;
  readonly fips?: boolean;
  readonly dualStack?: boolean;
}

/**
 * The bucket's URL as the S3 client's own endpoint rules give it: the regional endpoint
 * with the DNS suffix of the region's partition (`amazonaws.com`, `amazonaws.com.cn`, ...),
 * FIPS or dual-stack as the client is set, virtual-hosted, or path-style for a dotted bucket
 * (its name would break the TLS wildcard) and for a custom endpoint (the local stand-in).
 */
export function bucketUrl(
  client: S3Client,
  bucket: string,
  region: string,
  { endpoint, fips = false, dualStack = false }: BucketEndpointOptions = {},
): URL {
  return client.config.endpointProvider({
    Bucket: bucket,
    Region: region,
    UseFIPS: fips,
    UseDualStack: dualStack,
    ForcePathStyle: endpoint !== undefined,
    Endpoint: endpoint?.origin,
  }).url;
}

/**
 * `bucketUrl` with the client's own FIPS and dual-stack settings (`AWS_USE_FIPS_ENDPOINT`,
 * `AWS_USE_DUALSTACK_ENDPOINT` or the shared config), resolved once per cold start: the
 * presigned URL then names the very host `HeadObject` asked.
 */
export async function clientBucketUrl(
  client: S3Client,
  bucket: string,
  region: string,
  endpoint?: URL,
): Promise<URL> {
  const [fips, dualStack] = await Promise.all([
    client.config.useFipsEndpoint(),
    client.config.useDualstackEndpoint(),
  ]);
  return bucketUrl(client, bucket, region, { endpoint, fips, dualStack });
}

/** How long credentials must outlive a URL they sign, in seconds: clock skew, a slow client. */
const CREDENTIAL_MARGIN_SECONDS = 60;

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
  /**
   * Each query parameter's last value and its encoded `name=value`. All but the date, the
   * signature and the disposition repeat from one URL to the next, the session token
   * (about 1 KB on Lambda) among them: encoded once, not on every request. One entry per
   * parameter name SigV4 writes, so the map stays this small.
   */
  readonly #pairs = new Map<string, { readonly value: string; readonly pair: string }>();

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
    const { bucketUrl } = options;
    this.#protocol = bucketUrl.protocol;
    this.#hostname = bucketUrl.hostname;
    this.#port = bucketUrl.port ? Number(bucketUrl.port) : undefined;
    this.#pathPrefix = bucketUrl.pathname.endsWith('/') ? bucketUrl.pathname : `${bucketUrl.pathname}/`;
  }

  async sign(
    { key, contentDisposition, contentType }: SignInput,
    { signedAt }: SigningWindow,
  ): Promise<string> {
    const request = new HttpRequest({
      method: 'GET',
      protocol: this.#protocol,
      hostname: this.#hostname,
      ...(this.#port === undefined ? {} : { port: this.#port }),
      path: this.#pathPrefix + encodeKeyPath(key),
      query: {
        'response-content-disposition': contentDisposition,
        ...(contentType === undefined ? {} : { 'response-content-type': contentType }),
      },
      headers: {},
    });
    const signed = await this.#presigner.presign(request, {
      signingDate: signedAt,
      expiresIn: this.#ttlSeconds,
    });
    const host = this.#port === undefined ? this.#hostname : `${this.#hostname}:${this.#port}`;
    const query = Object.entries(signed.query ?? {})
      .map(([name, value]) => this.#pair(name, String(value)))
      .join('&');
    return `${this.#protocol}//${host}${signed.path}?${query}`;
  }

  #pair(name: string, value: string): string {
    const last = this.#pairs.get(name);
    if (last?.value === value) return last.pair;
    const pair = `${strictEncode(name)}=${strictEncode(value)}`;
    this.#pairs.set(name, { value, pair });
    return pair;
  }

  /**
   * The credentials to sign with, resolved once and reused while they outlive the URL: a
   * presigned URL dies with the temporary credentials that signed it. Asking the provider
   * on every call costs as much as the signature itself.
   */
  async #identityFor(now: Date): Promise<AwsCredentialIdentity> {
    const identity = this.#identity;
    // A URL signed now (for a window that started at or before now) dies by now + ttl; the
    // credentials must outlive it by a margin for clock skew between Lambda and S3.
    const needed = now.getTime() + (this.#ttlSeconds + CREDENTIAL_MARGIN_SECONDS) * 1000;
    if (identity && (!identity.expiration || identity.expiration.getTime() > needed)) return identity;
    try {
      this.#identity = await this.#credentials();
    } catch (error) {
      throw new UnavailableError('signing credentials are unavailable', 5, { cause: error });
    }
    return this.#identity;
  }
}
