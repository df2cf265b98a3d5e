import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { FILES_PREFIX } from '../../edge/paths.ts';
import { shownValue } from './config.ts';
import { ConfigError } from './errors.ts';
import { encodeKeyPath, type Signer, type SignInput, type SigningWindow } from './signing.ts';

export interface CdnSignerOptions {
  /** The distribution's origin, e.g. `https://d111.cloudfront.net`. */
  readonly origin: URL;
  /** CloudFront public key id of the active key. */
  readonly keyPairId: string;
  /** The active private key, parsed once (a PEM string would be re-parsed on every call). */
  readonly privateKey: KeyObject;
}

/**
 * Reads and parses the CloudFront private key once (cold start). CloudFront key groups take
 * RSA 2048 keys; anything else, or a file that cannot be read, is a ConfigError naming the
 * setting. The key itself never appears in the message.
 */
export function readPrivateKey(file: string, setting = 'SIGNET_CF_PRIVATE_KEY_FILE'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new ConfigError(`${setting} is ${shownValue(file)}: cannot read a private key from it (${code})`);
  }
  if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== 2048) {
    throw new ConfigError(
      `${setting} is ${shownValue(file)}: Signet signs CloudFront URLs with an RSA 2048 key`,
    );
  }
  return key;
}

/**
 * `via=cdn`: a CloudFront signed URL with a canned policy,
 * `{origin}/files/{key}?response-content-disposition=...&Expires=...&Signature=...&Key-Pair-Id=...`.
 */
export class CdnSigner implements Signer {
  readonly via = 'cdn' as const;
  readonly #base: string;
  readonly #keyPairId: string;
  readonly #privateKey: KeyObject;

  constructor(options: CdnSignerOptions) {
    this.#base = `${options.origin.origin}${FILES_PREFIX}`;
    this.#keyPairId = options.keyPairId;
    this.#privateKey = options.privateKey;
  }

  sign({ key, contentDisposition }: SignInput, { expiresAt }: SigningWindow): string {
    const signed = getSignedUrl({
      url: `${this.#base}${encodeKeyPath(key)}?response-content-disposition=${encodeURIComponent(contentDisposition)}`,
      keyPairId: this.#keyPairId,
      // The signer accepts any key createSign understands; its type only says string.
      privateKey: this.#privateKey as unknown as string,
      dateLessThan: expiresAt,
    });
    return inContractOrder(signed);
  }
}

/**
 * The signer appends `Expires`, `Key-Pair-Id`, `Signature`; the contract lists them as
 * `Expires`, `Signature`, `Key-Pair-Id`. CloudFront reads them in any order; the URL keeps
 * the documented one. Each is taken and put back exactly as the signer encoded it (the
 * percent-encoded filename before them holds no raw `&`); a URL of any other shape is left
 * as the signer made it.
 */
function inContractOrder(signed: string): string {
  const at = signed.lastIndexOf('&Expires=');
  const params = new Map(
    signed
      .slice(at + 1)
      .split('&')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair] as const),
  );
  const ordered = ['Expires', 'Signature', 'Key-Pair-Id'].map((name) => params.get(name));
  if (at < 0 || params.size !== 3 || ordered.includes(undefined)) return signed;
  return `${signed.slice(0, at)}&${ordered.join('&')}`;
}
