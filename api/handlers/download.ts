import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CdnSigner } from '../core/cdn-signer.ts';
import { type Config, loadConfig, type Via } from '../core/config.ts';
import { type DownloadService, DownloadService as Service } from '../core/download.ts';
import { UnauthorizedError, UnavailableError } from '../core/errors.ts';
import { scopesFromClaims } from '../core/keys.ts';
import { S3ObjectStore } from '../core/object-store.ts';
import { S3Signer } from '../core/s3-signer.ts';
import type { Signer } from '../core/signing.ts';
import { BASE_HEADERS, getQuery, jsonResult, problemResult, wantsJson, withoutBodyFor } from './rest.ts';

export interface DownloadHandlerDeps {
  readonly service: DownloadService;
  readonly logger: Logger;
}

/** `GET`/`HEAD /d/{key+}`: 302 to a signed URL, or its JSON form on `Accept: application/json`. */
export function createDownloadHandler({ service, logger }: DownloadHandlerDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const authorizer = event.requestContext.authorizer;
      const sub = authorizer?.sub;
      if (typeof sub !== 'string' || sub === '') throw new UnauthorizedError('no authorized caller');
      const link = await service.link({
        principal: { sub, scopes: scopesFromClaims({ scope: authorizer?.scope }) },
        key: event.pathParameters?.proxy ?? '',
        filename: getQuery(event, 'filename'),
        disposition: getQuery(event, 'disposition'),
        via: getQuery(event, 'via'),
      });
      const headers = { 'Referrer-Policy': 'no-referrer' };
      if (wantsJson(event)) {
        return withoutBodyFor(
          event,
          jsonResult(
            200,
            {
              url: link.url,
              expiresAt: link.expiresAt.toISOString(),
              via: link.via,
              filename: link.filename,
            },
            headers,
          ),
        );
      }
      return withoutBodyFor(event, {
        statusCode: 302,
        headers: { ...BASE_HEADERS, ...headers, Location: link.url },
        body: '',
      });
    } catch (error) {
      if (error instanceof UnavailableError) logger.warn('download unavailable', { error });
      else if (!(error instanceof Error) || !('code' in error))
        logger.error('download failed', { error: error as Error });
      return withoutBodyFor(event, problemResult(error));
    }
  };
}

/** The S3 client and both signers, built once per cold start from config. */
export function buildDownloadService(config: Config): DownloadService {
  const s3 = new S3Client({
    region: config.region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint.origin, forcePathStyle: true } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
  });
  const signers: Partial<Record<Via, Signer>> = {
    s3: new S3Signer({
      bucket: config.bucket,
      region: config.region,
      endpoint: config.s3Endpoint,
      credentials: s3.config.credentials,
      sha256: s3.config.sha256,
      ttlSeconds: config.urlTtlSeconds,
    }),
  };
  if (config.distributionOrigin && config.cloudFrontKeyPairId && config.cloudFrontPrivateKeyFile) {
    signers.cdn = new CdnSigner({
      origin: config.distributionOrigin,
      keyPairId: config.cloudFrontKeyPairId,
      privateKey: createPrivateKey(readFileSync(config.cloudFrontPrivateKeyFile)),
    });
  }
  return new Service({ config, store: new S3ObjectStore(s3, config.bucket), signers });
}

export const handler = createDownloadHandler({
  service: buildDownloadService(loadConfig(process.env)),
  logger: new Logger({ serviceName: 'signet-download' }),
});
