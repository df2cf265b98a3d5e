import { BadRequestError, ForbiddenKeyError, InsufficientScopeError } from './errors.ts';

/** S3's own limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

// C0 controls, DEL and C1 controls: never valid in a key Signet will sign.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks an object key taken from a request. Rejects (BadRequestError): empty, over 1024
 * UTF-8 bytes, control characters, a leading "/", empty, "." or ".." segments.
 */
export function validateKey(key: string): string {
  if (key.length === 0) throw new BadRequestError('the key is empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new BadRequestError(`the key is longer than ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
  if (CONTROL.test(key)) throw new BadRequestError('the key contains control characters');
  if (!key.isWellFormed()) throw new BadRequestError('the key is not valid Unicode');
  if (key.startsWith('/')) throw new BadRequestError('the key must not start with "/"');
  for (const segment of key.split('/')) {
    if (segment === '.' || segment === '..') throw new BadRequestError('the key holds a "." or ".." segment');
    if (segment === '') throw new BadRequestError('the key holds an empty segment');
  }
  return key;
}

/** Who the authorizer says the caller is. */
export interface Principal {
  readonly sub: string;
  readonly scopes: ReadonlySet<string>;
}

export const SCOPE_READ = 'downloads:read';
export const SCOPE_READ_ALL = 'downloads:all';

/**
 * A `sub` that could climb out of its own folder once templated into a prefix. Such a
 * caller is not granted any `{sub}` prefix (it keeps the untemplated ones).
 */
function unsafeSub(sub: string): boolean {
  return sub.length === 0 || sub === '.' || sub === '..' || sub.includes('/') || CONTROL.test(sub);
}

/** The prefixes a caller may read, with `{sub}` filled in. */
export function prefixesFor(templates: readonly string[], sub: string): string[] {
  const safe = !unsafeSub(sub);
  return templates
    .filter((t) => safe || !t.includes('{sub}')) // A function, not a string: a string replacement reads `$'`, `$`` ` and `$&` in `sub` as patterns.
    .map((t) => t.replaceAll('{sub}', () => sub));
}

/**
 * Decides whether `principal` may read `key`: needs `downloads:read` (or `downloads:all`),
 * and the key inside one of its prefixes unless it holds `downloads:all`.
 */
export function authorizeRead(principal: Principal, key: string, templates: readonly string[]): void {
  if (principal.scopes.has(SCOPE_READ_ALL)) return;
  if (!principal.scopes.has(SCOPE_READ)) throw new InsufficientScopeError(SCOPE_READ);
  const allowed = prefixesFor(templates, principal.sub).some((prefix) => key.startsWith(prefix));
  if (!allowed) throw new ForbiddenKeyError('the key is outside the prefixes this caller may read');
}

/**
 * Scopes from a verified token: the `scope` claim (space-separated) or `scp` (array or
 * space-separated string). An array item holding white space is not a scope token
 * (RFC 6749 §3.3) and is dropped: the authorizer passes scopes on space-separated, so
 * `["profile downloads:all"]` would otherwise turn into `downloads:all` at the route.
 */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): Set<string> {
  const scopes = new Set<string>();
  addScopes(scopes, claims.scope);
  addScopes(scopes, claims.scp);
  return scopes;
}

const WHITE_SPACE = /\s/;

function addScopes(scopes: Set<string>, value: unknown): void {
  const items = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
  for (const item of items) {
    if (typeof item === 'string' && item.length > 0 && !WHITE_SPACE.test(item)) scopes.add(item);
  }
}
