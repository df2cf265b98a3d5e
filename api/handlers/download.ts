import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { createDownloadHandler } from '../adapters/download.ts';
import { CdnSigner, readPrivateKey } from '../core/cdn-signer.ts';
import { type Config, loadConfig, type Via } from '../core/config.ts';
import { DownloadService } from '../core/download.ts';
import { S3ObjectStore } from '../core/object-store.ts';
import { clientBucketUrl, S3Signer } from '../core/s3-signer.ts';
import type { Signer } from '../core/signing.ts';

/** The S3 client and both signers, built once per cold start from config. */
export async function buildDownloadService(config: Config): Promise<DownloadService> {
  const s3 = new S3Client({
    region: config.region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint.origin, forcePathStyle: true } : {}),
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
  return new DownloadService({ config, store: new S3ObjectStore(s3, config.bucket), signers });
}

export const handler = createDownloadHandler({
  // Top-level await: resolved once, during the Lambda's init phase.
  service: await buildDownloadService(loadConfig(process.env)),
  logger: new Logger({ serviceName: 'signet-download' }),
});
