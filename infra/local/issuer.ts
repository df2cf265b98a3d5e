import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import {
  answerClientErrors,
  answerExpectations,
  hostProblem,
  listen,
  parserProblem,
  sendProblem as problem,
} from './http.ts';
import { paths, REMAKE, readJson, type ShapeCheck, StateError, writeJson } from './state.ts';

/** The dev issuer signs RS256: the cheapest verification for the authorizer. */
const ALG = 'RS256';

interface StoredKey {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

const isJwk = (value: unknown, ...members: string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (value as JWK).kty === 'RSA' &&
  members.every((m) => typeof (value as Record<string, unknown>)[m] === 'string');

const storedKeyShape: ShapeCheck = (value) => {
  const key = value as Partial<StoredKey> | null;
  if (typeof key !== 'object' || key === null || typeof key.kid !== 'string') return 'expected {kid, ...}';
  if (!isJwk(key.privateJwk, 'n', 'e', 'd')) return 'privateJwk is not an RSA private JWK';
  if (!isJwk(key.publicJwk, 'n', 'e')) return 'publicJwk is not an RSA public JWK';
  return undefined;
};

/** The issuer's key pair, or undefined before the first start. */
export async function readIssuerKey(dir: string): Promise<StoredKey | undefined> {
  return readJson<StoredKey>(paths(dir).issuerKey, storedKeyShape, REMAKE);
}

/** The issuer's key pair: made on first start (`created`), kept under the state folder. */
export async function ensureIssuerKey(dir: string): Promise<{ key: StoredKey; created: boolean }> {
  const file = paths(dir).issuerKey;
  const existing = await readIssuerKey(dir);
  if (existing) return { key: existing, created: false };
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = randomUUID();
  const key: StoredKey = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' },
  };
  await writeJson(file, key, { secret: true });
  return { key, created: true };
}

/** What a dev token holds unless told otherwise: `npm start`'s token and `npx signet token`'s. */
export const DEV_TOKEN = Object.freeze({ sub: 'dev-user', scope: 'downloads:read', ttlSeconds: 3600 });

export interface MintOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Default `dev-user` (DEV_TOKEN). */
  readonly sub?: string;
  /** Space-separated scopes. Default `downloads:read` (DEV_TOKEN). */
  readonly scope?: string;
  /** Lifetime in seconds. Default 3600 (DEV_TOKEN). */
  readonly ttlSeconds?: number;
}

/**
 * A JWT from the local dev issuer. Only `signet dev` makes the issuer key: a key made here
 * would sign tokens the running stack's JWKS does not hold.
 */
export async function mintToken(dir: string, options: MintOptions): Promise<string> {
  const file = paths(dir).issuerKey;
  const key = await readIssuerKey(dir);
  if (!key) throw new StateError(file, 'no dev issuer key yet', 'run `npm start` once to make it');
  const privateKey = await importJWK(key.privateJwk, ALG).catch((error: Error) => {
    throw new StateError(file, `the private key does not load (${error.message})`, REMAKE);
  });
  return new SignJWT({ scope: options.scope ?? DEV_TOKEN.scope })
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.sub ?? DEV_TOKEN.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? DEV_TOKEN.ttlSeconds))
    .sign(privateKey);
}

export const JWKS_PATH = '/.well-known/jwks.json';

/** Serves the issuer's JWKS on 127.0.0.1. */
export async function startIssuer(
  dir: string,
  port: number,
): Promise<{ url: string; jwks: string; server: Server; keyCreated: boolean }> {
  const { key, created } = await ensureIssuerKey(dir);
  // Only the public members, whatever a hand-edited key file holds beside them.
  const { kty, n, e, kid, alg, use } = key.publicJwk;
  const body = JSON.stringify({ keys: [{ kty, n, e, kid, alg, use }] });
  // Node answers a request without Host a bare 400 of its own: answered here, in problem+json.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    const badHost = hostProblem(req);
    if (badHost) {
      res.shouldKeepAlive = false;
      return problem(res, 400, 'bad-request', badHost);
    }
    // The query does not name another resource; HEAD is GET without the body. An
    // absolute-form target names the path after its host (RFC 9112 §3.2.2).
    const target = (req.url ?? '/').replace(/^https?:\/\/[^/?#]*/i, '');
    if (target.split('?', 1)[0] !== JWKS_PATH) return problem(res, 404, 'not-found', 'no such path');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return problem(res, 405, 'method-not-allowed', 'the JWKS is read with GET', { Allow: 'GET, HEAD' });
    }
    res.writeHead(200, {
      'Content-Type': 'application/jwk-set+json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'max-age=300',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // What Node's parser refuses (CONNECT, headers over 16 KB, ...) gets problem+json too.
  answerClientErrors(server, (code) => parserProblem(code, 'GET, HEAD'));
  answerExpectations(server);
  await listen(server, port);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, jwks: `${url}${JWKS_PATH}`, server, keyCreated: created };
}
