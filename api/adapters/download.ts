import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { DownloadService } from '../core/download.ts';
import { NotFoundError, SignetError, UnauthorizedError, UnavailableError } from '../core/errors.ts';
import { scopesFromClaims } from '../core/keys.ts';
import { BASE_HEADERS, getPathParameter, getQuery, jsonResult, problemResult, wantsJson } from './rest.ts';

/** What the AWS SDK tells of an S3 answer, on its errors. */
interface S3Metadata {
  readonly requestId?: string;
  readonly extendedRequestId?: string;
}

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
      } else if (error instanceof NotFoundError && error.cause !== undefined) {
        // S3 answered 403: a missing key when the role lacks s3:ListBucket, or a role or
        // policy at fault. The caller sees 404; ops see what S3 said, without noise. An
        // answer to HEAD has no body, so the error may be named only `Unknown`: S3's
        // request ids are what AWS support can trace.
        const { name, $metadata } = error.cause as Error & { $metadata?: S3Metadata };
        logger.info('storage answered 403; answered 404', {
          s3Error: name,
          s3RequestId: $metadata?.requestId,
          s3ExtendedRequestId: $metadata?.extendedRequestId,
        });
      } else if (!(error instanceof SignetError)) {
        logger.error('download failed', { error: error as Error });
      }
      return problemResult(error);
    }
  };
}
