import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** The state folder: `SIGNET_STATE_DIR`, default `.signet` in the working directory. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SIGNET_STATE_DIR ?? '.signet');
}

/** What `signet dev` writes to `endpoints.json` (SPEC.md, "The local stack"). */
export interface Endpoints {
  readonly edge: string;
  readonly s3: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dynamodb: string;
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: string;
}

export const paths = (dir: string) => ({
  endpoints: join(dir, 'endpoints.json'),
  credentials: join(dir, 'credentials.json'),
  issuerKey: join(dir, 'issuer', 'private.jwk.json'),
  keyGroup: join(dir, 'keys', 'keys.json'),
  privateKey: (name: string) => join(dir, 'keys', `${name}.pem`),
  s3: join(dir, 's3'),
  dynamodb: join(dir, 'dynamodb'),
});

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes atomically (temp file + rename), creating folders; `secret` files are 0600. */
export async function writeJson(file: string, value: unknown, { secret = false } = {}): Promise<void> {
  await writeText(file, `${JSON.stringify(value, null, 2)}\n`, { secret });
}

export async function writeText(file: string, text: string, { secret = false } = {}): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode: secret ? 0o600 : 0o644 });
  await rename(temp, file);
}

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The local S3 credentials: made on first start, kept across restarts. */
export async function ensureCredentials(dir: string): Promise<LocalCredentials> {
  const file = paths(dir).credentials;
  const existing = await readJson<LocalCredentials>(file);
  if (existing) return existing;
  const created = {
    accessKeyId: `AKIALOCAL${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await writeJson(file, created, { secret: true });
  return created;
}
