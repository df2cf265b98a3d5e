import { errors, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from 'jose';
import type { Config } from './config.ts';
import { UnauthorizedError, UnavailableError } from './errors.ts';
import { headerValues } from './headers.ts';
import { type Principal, scopesFromClaims } from './keys.ts';

type Headers = Readonly<Record<string, string | undefined>> | null | undefined;

function header(headers: Headers, name: string): string | undefined {
  return headerValues(headers, name)[0];
}

/**
 * The value of cookie `name` in a `Cookie` header, or undefined. A value in double quotes
 * (RFC 6265 §4.1.1 allows them) is read without them; the first cookie of that name with a
 * value wins.
 */
export function readCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    const unquoted =
      value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    // An empty one (a cookie cleared on one path, set on another) does not hide the next.
    if (unquoted) return unquoted;
  }
  return undefined;
}

/**
 * A credential of a scheme other than Bearer (RFC 9110 §11.4): a scheme name, without the
 * dots of a JWT, then a space and its credentials, as in `Basic dXNlcjpwYXNz`.
 */
const OTHER_SCHEME = /^(?!bearer )[A-Za-z][A-Za-z0-9!#$%&'*+^_`|~-]* +\S/i;
/**
 * Still a try at a token: a JWT under another name (`JWT <jwt>`), or a Bearer joined in
 * (`Basic x, Bearer <jwt>`). Quoted strings are not looked into: a Digest `uri` or `nonce`
 * may hold anything. A JWT starts a run of base64url characters (its header is `{"…`): the
 * lookbehind keeps the search linear, where `eyJeyJeyJ…` once cost a scan per `eyJ`.
 */
const TOKEN_INSIDE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.|(^|,)\s*bearer\b/i;

/** What a backslash in a quoted string may not escape (RFC 9110 §5.6.4: tab, space, visible). */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/**
 * The value with each quoted string (RFC 9110 §5.6.4) emptied to `""`, in one pass: a
 * pattern such as `/"(?:[^"\\]|\\.)*"/g` tries again from every `"`, and a long run of `\"`
 * with no closing quote cost it a scan per quote. A string left unclosed, or broken by a
 * backslash before a line terminator, is left as it is, with all that follows it: what it
 * hides stays in sight.
 */
function emptyQuoted(value: string): string {
  let out = '';
  let from = 0;
  for (let open = value.indexOf('"'); open !== -1; open = value.indexOf('"', from)) {
    let at = open + 1;
    while (at < value.length && value[at] !== '"') {
      if (value[at] === '\\') {
        if (LINE_TERMINATOR.test(value[at + 1] ?? '\n')) return out + value.slice(from);
        at += 2;
      } else at += 1;
    }
    if (at >= value.length) break;
    out += `${value.slice(from, open)}""`;
    from = at + 1;
  }
  return out + value.slice(from);
}

type MultiHeaders = Readonly<Record<string, readonly string[] | undefined>> | null | undefined;

/**
 * The caller's token: `Authorization: Bearer <jwt>`, or else the cookie `cookieName`.
 * Anything else in `Authorization` that could be a try at a token (`Bearer<jwt>`,
 * `Bearer: <jwt>`, a bare JWT, `JWT <jwt>`, `Basic x, Bearer <jwt>`), and a second
 * `Authorization` header, is rejected, never passed over for the cookie, which may name
 * someone else. A credential of another scheme is not meant for Signet (a browser sends
 * `Basic` to every page of a site behind HTTP authentication): the cookie is read.
 */
export function extractToken(headers: Headers, cookieName: string, multiValueHeaders?: MultiHeaders): string {
  // One credential per request (RFC 9110 §11.6.2); the gateway would pass on only the last.
  // Names that differ in case only are the same header, counted together.
  const authorizations = headerValues(headers, 'authorization');
  const given = Math.max(
    authorizations.length,
    headerValues(multiValueHeaders, 'authorization').reduce((n, values) => n + values.length, 0),
  );
  if (given > 1) throw new UnauthorizedError('the request holds more than one Authorization header');
  const authorization = authorizations[0]?.trim();
  if (authorization && (!OTHER_SCHEME.test(authorization) || TOKEN_INSIDE.test(emptyQuoted(authorization)))) {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization);
    if (!match?.[1])
      throw new UnauthorizedError('the Authorization header is not a well-formed Bearer token');
    return match[1];
  }
  // Every Cookie line the gateway was given: `headers` keeps only the last of several.
  const cookieLines = headerValues(multiValueHeaders, 'cookie').flat();
  const cookie = readCookie(
    cookieLines.length > 0 ? cookieLines.join('; ') : header(headers, 'cookie'),
    cookieName,
  );
  if (cookie !== undefined) return cookie;
  throw new UnauthorizedError(
    authorization
      ? 'the Authorization header is not a Bearer token, and no token cookie was sent'
      : 'no token: send Authorization: Bearer or a cookie',
  );
}

/** jose codes that mean "this token is not acceptable": a 401. */
const REJECTED = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
]);

/** What jose finds wrong with a token only once its signature has verified: its claims. */
const CLAIMS_ERRORS = [errors.JWTExpired, errors.JWTClaimValidationFailed, errors.JWTInvalid];

/**
 * Whether a failed verify means the issuer's keys could not be had: jose's own errors other
 * than a rejection (a timeout, a non-200 answer, a set it cannot read), or `fetch` failing on
 * the network, which it reports as a TypeError whose cause is the network error.
 */
function isKeySetOutage(error: unknown): boolean {
  if (error instanceof errors.JOSEError) return true;
  return error instanceof TypeError && error.cause !== undefined;
}

/** A bad signature, for a token whose key cannot verify it: a 401, never a 503. */
function unusableKey(error: unknown): errors.JWSSignatureVerificationFailed {
  return new errors.JWSSignatureVerificationFailed(
    `the key the token names cannot verify it: ${(error as Error).message}`,
    { cause: error },
  );
}

/**
 * `jwtVerify` against a key set. A token without a `kid` matches every key of its type, as
 * may a set where two keys share a `kid` (an issuer rotating keys): jose then hands back the
 * candidates, and, as its documentation shows, each is tried in turn. A candidate that does
 * not verify the signature, or cannot (a key jose refuses, such as RSA under 2048 bits), is
 * passed over; the first that verifies decides, claims and all. None is a bad signature, and
 * so is a token whose one key cannot verify it: whoever names such a key in a forged token
 * gets a 401, not the gateway's authorizer failure.
 */
async function verifyWithKeySet(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions) {
  // How jose and WebCrypto refuse a key itself: a DOMException when the set cannot import a
  // JWK it lists (an EC point off its curve), a TypeError once jose holds a key it will not
  // use (RSA under 2048 bits). Never a JOSEError, nor the network's TypeError, which comes
  // from the set before any key does; a TypeError from the set itself stays a bug.
  let handedOver = false;
  const getKey: JWTVerifyGetKey = async (header, input) => {
    try {
      const key = await keys(header, input);
      handedOver = true;
      return key;
    } catch (error) {
      throw error instanceof DOMException ? unusableKey(error) : error;
    }
  };
  try {
    return await jwtVerify(token, getKey, options);
  } catch (error) {
    if (handedOver && (error instanceof TypeError || error instanceof DOMException)) throw unusableKey(error);
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      try {
        return await jwtVerify(token, candidate, options);
      } catch (failure) {
        if (CLAIMS_ERRORS.some((type) => failure instanceof type)) throw failure;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

export type VerifyOptions = Pick<Config, 'issuer' | 'audience' | 'algorithms' | 'clockToleranceSeconds'>;

/**
 * Verifies a JWT with an explicit algorithm allowlist, exact `iss` and `aud`, and `exp`
 * and `sub` required. A bad token is an UnauthorizedError (with a jose `code` as cause);
 * a JWKS that cannot be fetched or read is an UnavailableError: denied, never allowed; any
 * other error (a bug) goes on as itself.
 */
export async function verifyToken(
  token: string,
  keys: JWTVerifyGetKey,
  options: VerifyOptions,
): Promise<{ principal: Principal; claims: JWTPayload }> {
  let payload: JWTPayload;
  try {
    ({ payload } = await verifyWithKeySet(token, keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...options.algorithms],
      clockTolerance: options.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError && REJECTED.has(error.code)) {
      throw new UnauthorizedError(`the token was rejected (${error.code})`, { cause: error });
    }
    // Timeouts, refused connections, non-200 answers, unreadable key sets: the issuer's
    // keys are unavailable. Never let the request through. Anything else is a bug, and
    // goes on as itself (denied all the same).
    if (isKeySetOutage(error)) {
      throw new UnavailableError('the token issuer keys are unavailable', 5, { cause: error });
    }
    throw error;
  }
  // jose checks that `sub` is present, not that it is a usable string; and that `exp` is a
  // number, which `1e999` in the JSON also is (Infinity): a token that would never expire.
  const { sub, exp } = payload;
  if (typeof sub !== 'string' || sub === '') throw new UnauthorizedError('the token has no usable "sub"');
  if (!Number.isFinite(exp)) throw new UnauthorizedError('the token has no usable "exp"');
  return { principal: { sub, scopes: scopesFromClaims(payload) }, claims: payload };
}
