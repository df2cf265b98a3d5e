import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';

/**
 * The state folder: `SIGNET_STATE_DIR`, default `.signet` in the project folder, the nearest
 * folder from the working one up that holds a `package.json` (where `npm start` runs), else
 * the working folder. So `npx signet token` finds the stack `npm start` started from any
 * folder of the project. Empty means unset, as for the ports: it must never put keys and
 * credentials in a folder git does not ignore.
 *
 * A relative `SIGNET_STATE_DIR` is read from the folder the command was typed in: npm's
 * `INIT_CWD` where npm ran it (`npm start` runs its script in the project folder, `npx`
 * where it was typed; both agree only on that), else the working folder.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const set = env.SIGNET_STATE_DIR?.trim();
  if (set) return resolve(env.INIT_CWD?.trim() || cwd, set);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, '.signet');
    if (dirname(dir) === dir) return resolve(cwd, '.signet');
  }
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
  lock: join(dir, 'lock'),
});

/** A state file that is there but cannot be used: the message names it and says what to do. */
export class StateError extends Error {
  constructor(file: string, problem: string, remedy: string) {
    super(`${file}: ${problem}; ${remedy}`);
    this.name = 'StateError';
  }
}

/** Says what is wrong with a parsed state file, or undefined when it is usable. */
export type ShapeCheck = (value: unknown) => string | undefined;

/** Whether a state file is there. */
export const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * Reads a JSON state file: undefined when it does not exist; a StateError naming the file
 * when it is not JSON or `check` finds it unusable.
 */
export async function readJson<T>(file: string, check: ShapeCheck, remedy: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    if (code === 'ENOENT') return undefined;
    // The file may be fine: deleting it would throw a key away. Say what is really wrong.
    throw new StateError(
      file,
      `cannot be read (${code})`,
      READ_REMEDIES[code] ?? 'check the file and its folder',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StateError(file, 'not valid JSON', remedy);
  }
  const problem = check(value);
  if (problem !== undefined) throw new StateError(file, problem, remedy);
  return value as T;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A check that `names` are all non-empty strings of an object. */
export function stringFields(...names: string[]): ShapeCheck {
  return (value) => {
    if (!isRecord(value)) return 'expected a JSON object';
    const missing = names.filter((name) => typeof value[name] !== 'string' || value[name] === '');
    return missing.length > 0 ? `expected a string in ${missing.join(', ')}` : undefined;
  };
}

/** endpoints.json, as `signet dev` writes it. */
export const endpointsShape = stringFields(
  'edge',
  's3',
  'bucket',
  'region',
  'accessKeyId',
  'secretAccessKey',
  'dynamodb',
  'issuer',
  'audience',
  'jwks',
);

/** What to do when a state file cannot be read at all, by the error's code. */
const READ_REMEDIES: Readonly<Record<string, string>> = {
  EACCES: 'check its owner and permissions',
  EPERM: 'check its owner and permissions',
  ENOTDIR: 'a part of its path is a file, not a folder: check SIGNET_STATE_DIR',
  EISDIR: 'it is a folder: move it away',
};

/**
 * Opens a LevelDB folder. One another process holds is a StateError saying so; one that
 * cannot be opened, a StateError with `problem` and `remedy`.
 */
export async function openLevel(directory: string, problem: string, remedy: string): Promise<ClassicLevel> {
  const db = new ClassicLevel(directory);
  try {
    await db.open();
    return db;
  } catch (error) {
    const { code, cause } = error as { code?: string; cause?: Error & { code?: string } };
    if (code === 'LEVEL_LOCKED' || cause?.code === 'LEVEL_LOCKED') {
      throw new StateError(
        directory,
        'in use by another `signet dev` on this state folder',
        'stop it, or set SIGNET_STATE_DIR to another folder',
      );
    }
    throw new StateError(directory, `${problem} (${cause?.message ?? (error as Error).message})`, remedy);
  }
}

/**
 * Holds the state folder for this process until the returned release is called: an OS file
 * lock (LevelDB's, on `lock/LOCK`), which the OS lets go of when the process ends, however
 * it ends. Taken before anything is read or made, so two starts at once cannot both make
 * keys; the second is refused in one line.
 */
export async function lockStateFolder(dir: string): Promise<() => Promise<void>> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unusable';
    const remedy =
      code === 'EEXIST' ? 'it is a file, not a folder: check SIGNET_STATE_DIR' : READ_REMEDIES[code];
    throw new StateError(
      dir,
      `cannot be used as the state folder (${code})`,
      remedy ?? 'check SIGNET_STATE_DIR',
    );
  }
  // The folder holds nothing but the lock: whatever is wrong with it, deleting it mends it.
  const lock = await openLevel(
    paths(dir).lock,
    'cannot be locked',
    'it holds only the lock: delete the folder (while no `signet dev` runs)',
  );
  return () => lock.close();
}

/** What a state file's error tells the user to do: `signet dev` remakes a deleted file. */
export const REMAKE = 'delete it and run `npm start` to make a new one';

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
  const existing = await readJson<LocalCredentials>(
    file,
    stringFields('accessKeyId', 'secretAccessKey'),
    REMAKE,
  );
  if (existing) return existing;
  const created = {
    accessKeyId: `AKIALOCAL${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await writeJson(file, created, { secret: true });
  return created;
}
