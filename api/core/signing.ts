import type { Via } from './config.ts';

/** What a signer needs to know about one download. */
export interface SignInput {
  /** The object key, validated. */
  readonly key: string;
  /** The full `Content-Disposition` value the download must carry. */
  readonly contentDisposition: string;
  /**
   * For an `inline` download, the type the object was found with. A signer whose URL can
   * carry it pins the answer's `Content-Type` to it, so an object overwritten after signing
   * (a PNG become HTML) is not shown as what it became; the CloudFront one needs none, its
   * viewer-response function checks the type served.
   */
  readonly contentType?: string | undefined;
}

/** A time window: when the URL counts as signed, and when it stops working. */
export interface SigningWindow {
  readonly signedAt: Date;
  readonly expiresAt: Date;
}

/** Port: turns an authorized download into a short-lived URL. Built once per cold start. */
export interface Signer {
  readonly via: Via;
  sign(input: SignInput, window: SigningWindow): Promise<string> | string;
}

/**
 * Rounds the signing time down to `stabilitySeconds`, so every request in one window gets
 * the very same URL (cacheable by browsers and CloudFront). The URL still has at least
 * `ttlSeconds - stabilitySeconds` to live when issued.
 */
export function signingWindow(
  nowMillis: number,
  ttlSeconds: number,
  stabilitySeconds: number,
): SigningWindow {
  const nowSeconds = Math.floor(nowMillis / 1000);
  const signedAtSeconds = nowSeconds - (nowSeconds % stabilitySeconds);
  return {
    signedAt: new Date(signedAtSeconds * 1000),
    expiresAt: new Date((signedAtSeconds + ttlSeconds) * 1000),
  };
}

/** RFC 3986 encoding of one URI component: `encodeURIComponent` plus `!'()*`. */
export function strictEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A key as a URL path: each segment RFC 3986 encoded, slashes kept. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(strictEncode).join('/');
}
