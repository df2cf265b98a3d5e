// Shared by the token and authorizer tests: one frozen clock, claims, and a signer.
import { type generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'signet';
/** A frozen clock: 2030-01-01T12:00:00Z. */
export const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
export const NOW_S = NOW / 1000;

export type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
export type SigningKey = Parameters<SignJWT['sign']>[0];

export const b64url = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** Valid claims for `alice`; an override of `undefined` removes the claim. */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'alice',
    scope: 'downloads:read',
    iat: NOW_S,
    exp: NOW_S + 300,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base as JWTPayload;
}

/** Signs `payload` with `key` (RS256, kid `rsa-1` unless told otherwise). */
export function sign(
  payload: JWTPayload,
  key: SigningKey,
  { alg = 'RS256', kid = 'rsa-1' }: { alg?: string; kid?: string | null } = {},
): Promise<string> {
  // `kid: null`: a header without one.
  return new SignJWT(payload).setProtectedHeader({ alg, kid: kid ?? undefined, typ: 'JWT' }).sign(key);
}
