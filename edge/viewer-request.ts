// CloudFront Function (cloudfront-js-2.0), viewer-request: `/files/{key}` becomes `/{key}`,
// the S3 object key. The key keeps its percent-encoding as received (S3 decodes it) and the
// query stays out of the uri, so the filename never reaches the cache key.
// Built by edge/build.ts into a plain script whose global `handler` CloudFront calls.
import { FILES_PREFIX } from './paths.ts';
import type { CfEvent, CfRequest } from './types.ts';

/** Maps `/files/{key}` to `/{key}`; any other request passes through untouched. */
export function handler(event: CfEvent): CfRequest {
  const request = event.request;
  const uri = request.uri;
  if (uri.length > FILES_PREFIX.length && uri.indexOf(FILES_PREFIX) === 0) {
    request.uri = uri.substring(FILES_PREFIX.length - 1);
  }
  return request;
}
