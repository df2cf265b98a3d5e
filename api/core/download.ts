import { shownInline } from '../../edge/inline-types.ts';
import type { Config, Via } from './config.ts';
import { ArchivedError, BadRequestError } from './errors.ts';
import { contentDisposition, type Disposition, resolveFilename } from './filename.ts';
import { authorizeRead, type Principal, validateKey } from './keys.ts';
import type { ObjectStore } from './object-store.ts';
import { type Signer, signingWindow } from './signing.ts';

/** A download request as the route parsed it; every field still untrusted. */
export interface DownloadRequest {
  readonly principal: Principal;
  readonly key: string;
  readonly filename?: string | undefined;
  readonly disposition?: string | undefined;
  readonly via?: string | undefined;
}

export interface DownloadLink {
  readonly url: string;
  readonly expiresAt: Date;
  readonly via: Via;
  readonly filename: string;
}

export interface DownloadDeps {
  readonly config: Pick<Config, 'defaultVia' | 'urlTtlSeconds' | 'urlStabilitySeconds' | 'readPrefixes'>;
  readonly store: ObjectStore;
  /** The signers configured; `cdn` is absent without a distribution. */
  readonly signers: Readonly<Partial<Record<Via, Signer>>>;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

export function parseDisposition(value: string | undefined): Disposition {
  if (value === undefined || value === 'attachment') return 'attachment';
  if (value === 'inline') return 'inline';
  throw new BadRequestError('disposition must be "attachment" or "inline"');
}

/**
 * `inline` where the object's type is safe to show in the page (`shownInline`), else
 * `attachment`, whatever the request asked.
 */
export function servedDisposition(requested: Disposition, contentType: string | undefined): Disposition {
  if (requested === 'attachment') return requested;
  return shownInline(contentType) ? 'inline' : 'attachment';
}

export function parseVia(value: string | undefined, fallback: Via): Via {
  if (value === undefined) return fallback;
  if (value === 's3' || value === 'cdn') return value;
  throw new BadRequestError('via must be "s3" or "cdn"');
}

/**
 * The download use case: validate, authorize, check the object exists, sign.
 * Knows nothing of Lambda or HTTP.
 */
export class DownloadService {
  readonly #deps: DownloadDeps;
  readonly #now: () => number;

  constructor(deps: DownloadDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  async link(request: DownloadRequest): Promise<DownloadLink> {
    const { config, store, signers } = this.#deps;
    const key = validateKey(request.key);
    const disposition = parseDisposition(request.disposition);
    const via = parseVia(request.via, config.defaultVia);
    const signer = signers[via];
    if (!signer) throw new BadRequestError(`via=${via} is not configured on this deployment`);
    // A bad requested filename is the caller's fault: report it before touching storage.
    const requested =
      request.filename === undefined ? undefined : resolveFilename({ requested: request.filename, key });

    authorizeRead(request.principal, key, config.readPrefixes);
    const object = await store.head(key);
    if (object.archived === 'restoring') {
      throw new ArchivedError('the object is archived and being restored: ask again once it is');
    }
    if (object.archived) {
      throw new ArchivedError('the object is archived: it must be restored before it can be downloaded');
    }

    const filename = requested ?? resolveFilename({ metadata: object.filename, key });
    const window = signingWindow(this.#now(), config.urlTtlSeconds, config.urlStabilitySeconds);
    const shown = servedDisposition(disposition, object.contentType);
    const url = await signer.sign(
      {
        key,
        contentDisposition: contentDisposition(shown, filename),
        ...(shown === 'inline' ? { contentType: object.contentType } : {}),
      },
      window,
    );
    return { url, expiresAt: window.expiresAt, via, filename };
  }
}
