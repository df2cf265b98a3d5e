import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CdnSigner, readPrivateKey } from '../core/cdn-signer.ts';
import { type Config, type Env, loadConfig, type Via } from '../core/config.ts';
import { DownloadService } from '../core/download.ts';
import {
  MisconfiguredError,
  SignetError,
  StorageDeniedError,
  UnauthorizedError,
  UnavailableError,
} from '../core/errors.ts';
import { scopesFromClaims } from '../core/keys.ts';
import { type ObjectStore, S3ObjectStore } from '../core/object-store.ts';
import { clientBucketUrl, S3Signer } from '../core/s3-signer.ts';
import type { Signer } from '../core/signing.ts';
import { BASE_HEADERS, getPathParameter, getQuery, jsonResult, problemResult, wantsJson } from './rest.ts';

export interface DownloadHandlerDeps {
  readonly service: DownloadService;
  readonly logger: Logger;
}

/**
 * `GET`/`HEAD /d/{key+}`: 302 to a signed URL, or its JSON form on `Accept: application/json`.
 * A HEAD gets GET's very answer, body included: API Gateway and CloudFront (and the local
 * edge) send no body for HEAD, and only a body here keeps `Content-Length` that of GET
 * (RFC 9110 §8.6 forbids any other value), so HEAD carries GET's status and headers exactly.
 */
export function createDownloadHandler({ service, logger }: DownloadHandlerDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const authorizer = event.requestContext.authorizer;
      const sub = authorizer?.sub;
      if (typeof sub !== 'string' || sub === '') throw new UnauthorizedError('no authorized caller');
      const link = await service.link({
        principal: { sub, scopes: scopesFromClaims({ scope: authorizer?.scope }) },
        key: getPathParameter(event, 'proxy'),
        filename: getQuery(event, 'filename'),
        disposition: getQuery(event, 'disposition'),
        via: getQuery(event, 'via'),
      });
      // The answer depends on Accept (redirect or JSON): say so to any cache on the way.
      const headers = { 'Referrer-Policy': 'no-referrer', Vary: 'Accept' };
      if (wantsJson(event)) {
        return jsonResult(
          200,
          { url: link.url, expiresAt: link.expiresAt.toISOString(), via: link.via, filename: link.filename },
          headers,
        );
      }
      return { statusCode: 302, headers: { ...BASE_HEADERS, ...headers, Location: link.url }, body: '' };
    } catch (error) {
      if (error instanceof UnavailableError) {
        logger.warn('download unavailable', { error });
      } else if (error instanceof StorageDeniedError) {
        // A missing key when the role lacks s3:ListBucket, or a role or policy at fault: the
        // caller sees 404; ops see what S3 said (a HEAD's error has no body, so its name
        // may be only `Unknown`; the request ids are what AWS support can trace).
        logger.info('storage answered 403; answered 404', { ...error.answer });
      } else if (error instanceof MisconfiguredError) {
        logger.error('storage refused the request as configured', { ...error.answer });
      } else if (!(error instanceof SignetError)) {
        logger.error('download failed', { error: error as Error });
      }
      return problemResult(error);
    }
  };
}

export interface DownloadWiring {
  /**
   * What signs and asks S3. Default: the SDK's own chain (on Lambda, the role's temporary
   * credentials from the environment).
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Where objects are looked up. Default: S3 itself, through the client built here. */
  readonly store?: ObjectStore;
}

/** The S3 client and both signers, built once per cold start from config. */
export async function buildDownloadService(
  config: Config,
  { credentials, store }: DownloadWiring = {},
): Promise<DownloadService> {
  const s3 = new S3Client({
    region: config.region,
    // A custom endpoint is the one S3 there is: a FIPS or dual-stack setting in the shell
    // or the shared config (which the endpoint rules refuse beside it) does not apply.
    ...(config.s3Endpoint
      ? {
          endpoint: config.s3Endpoint.origin,
          forcePathStyle: true,
          useFipsEndpoint: false,
          useDualstackEndpoint: false,
        }
      : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 2,
    // throwOnRequestTimeout: without it, smithy only logs a warning past requestTimeout and
    // a silent S3 holds the request until the Lambda itself times out (a 504, not a 503).
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });
  const signers: Partial<Record<Via, Signer>> = {
    s3: new S3Signer({
      bucketUrl: await clientBucketUrl(s3, config.bucket, config.region, config.s3Endpoint),
      region: config.region,
      credentials: s3.config.credentials,
      sha256: s3.config.sha256,
      ttlSeconds: config.urlTtlSeconds,
    }),
  };
  if (config.distributionOrigin && config.cloudFrontKeyPairId && config.cloudFrontPrivateKeyFile) {
    signers.cdn = new CdnSigner({
      origin: config.distributionOrigin,
      keyPairId: config.cloudFrontKeyPairId,
      privateKey: readPrivateKey(config.cloudFrontPrivateKeyFile),
    });
  }
  return new DownloadService({ config, store: store ?? new S3ObjectStore(s3, config.bucket), signers });
}

/**
 * The route built from settings (`process.env` on Lambda, once per cold start; the local
 * stack's and the bench's own): config, the S3 client, both signers and the logger.
 */
export async function downloadFromEnv(env: Env, wiring: DownloadWiring = {}) {
  const config = loadConfig(env);
  return createDownloadHandler({
    service: await buildDownloadService(config, wiring),
    logger: new Logger({ serviceName: 'signet-download', logLevel: config.logLevel }),
  });
}
