// CloudFront Function (cloudfront-js-2.0), viewer-response: copies the signed
// `response-content-disposition` query parameter into the `Content-Disposition` header, so one
// cached object serves every filename. The parameter is covered by the URL's signature
// (CloudFront checks it before any function runs); the checks below are defence in depth.
// `inline` holds only for a type safe to show (the route's own rule): an object overwritten
// after the URL was signed is served as an attachment. No answer is sniffed.
// Built by edge/build.ts into a plain script whose global `handler` CloudFront calls.
import { shownInline } from './inline-types.ts';
import type { CfResponse, CfResponseEvent, CfValue } from './types.ts';

const PARAM = 'response-content-disposition';
/** Longest value copied, in characters. */
const MAX_LENGTH = 2048;
/** Already a header value: `attachment` or `inline`, then `;` or the end. */
const DISPOSITION = /^(attachment|inline)(;|$)/;
/** The whole value: a known type, then printable ASCII only (no CR, LF, other controls). */
const SAFE = /^(attachment|inline)(;[\x20-\x7e]*)?$/;

/** The first value of a query parameter, whether CloudFront gave it as `value` or `multiValue`. */
function firstValue(param: CfValue | undefined): string | undefined {
  if (!param) return undefined;
  const multi = param.multiValue;
  if (multi && multi.length > 0 && multi[0]) return multi[0].value;
  return param.value;
}

/** The header value, decoded once if CloudFront kept the encoding; undefined if unusable. */
function dispositionOf(raw: string | undefined): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let value = raw;
  if (!DISPOSITION.test(value)) {
    try {
      value = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  if (value.length > MAX_LENGTH || !SAFE.test(value)) return undefined;
  return value;
}

/**
 * On 2xx/3xx responses: `content-disposition` from the signed query (`inline` turned to
 * `attachment` unless the type served is shown inline) and `x-content-type-options:
 * nosniff`; otherwise a no-op (CloudFront runs no viewer-response function on errors).
 */
export function handler(event: CfResponseEvent): CfResponse {
  const response = event.response;
  if (response.statusCode < 200 || response.statusCode >= 400) return response;
  response.headers['x-content-type-options'] = { value: 'nosniff' };
  let value = dispositionOf(firstValue(event.request.querystring[PARAM]));
  if (value === undefined) return response;
  const type = response.headers['content-type'];
  if (type === undefined && response.statusCode === 304) {
    // A 304 carries no type to check. The browser takes this answer's headers into its
    // copy, which keeps the disposition this function gave it when it was served: sent
    // none, so a PDF shown inline stays inline and a page served as an attachment stays one.
    delete response.headers['content-disposition'];
    return response;
  }
  if (value.indexOf('inline') === 0 && !shownInline(type ? type.value : undefined)) {
    value = `attachment${value.substring('inline'.length)}`;
  }
  response.headers['content-disposition'] = { value };
  return response;
}
