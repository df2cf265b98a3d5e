import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { exists, paths, readJson, type ShapeCheck, StateError, writeJson, writeText } from './state.ts';

/**
 * What to do about an unusable key group: keys.json and the private keys beside it go
 * together, so a new group starts from an empty folder (a new key pair id for the edge).
 */
export const REMAKE_KEYS = 'delete the keys folder and run `npm start` to make a new key group';

/** A key's place in the rotation (SPEC.md, "Key rotation"). */
export type KeyStatus = 'active' | 'trusted' | 'retired';

/** One CloudFront public key of the local key group. */
export interface KeyEntry {
  /** A human name, e.g. `local-1`. */
  readonly name: string;
  /** What CloudFront calls the public key id: the `Key-Pair-Id` of signed URLs. */
  readonly id: string;
  readonly status: KeyStatus;
  readonly publicKey: string;
  readonly createdAt: string;
}

function newKeyId(): string {
  // CloudFront public key ids look like K2JCJMDEHXQW5F: "K" and 13 upper-case letters/digits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `K${[...randomBytes(13)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * Creates an RSA 2048 key pair: the private half under the state folder (0600), the entry
 * returned. A private key already there under that name is never replaced.
 */
export async function createKey(dir: string, name: string, status: KeyStatus): Promise<KeyEntry> {
  const file = paths(dir).privateKey(name);
  if (await exists(file)) {
    throw new StateError(file, 'a private key is already there, and keys.json does not list it', REMAKE_KEYS);
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeText(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
    secret: true,
  });
  return {
    name,
    id: newKeyId(),
    status,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    createdAt: new Date().toISOString(),
  };
}

const STATUSES: readonly string[] = ['active', 'trusted', 'retired'];
/** A key name is also its private key's file name. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** keys.json: entries with a usable name, id, status and public key, names and ids unique. */
const keyGroupShape: ShapeCheck = (value) => {
  if (!Array.isArray(value)) return 'expected a JSON array of keys';
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const [index, entry] of value.entries()) {
    const e = (entry ?? {}) as Partial<Record<keyof KeyEntry, unknown>>;
    const where = `entry ${index}`;
    if (typeof e.name !== 'string' || !KEY_NAME.test(e.name)) return `${where}: "name" is not a key name`;
    if (typeof e.id !== 'string' || e.id === '') return `${where} (${e.name}): "id" is missing`;
    if (typeof e.status !== 'string' || !STATUSES.includes(e.status)) {
      return `${where} (${e.name}): "status" must be one of ${STATUSES.join(', ')}`;
    }
    if (typeof e.publicKey !== 'string') return `${where} (${e.name}): "publicKey" is missing`;
    try {
      createPublicKey(e.publicKey);
    } catch {
      return `${where} (${e.name}): "publicKey" is not a PEM public key`;
    }
    if (names.has(e.name) || ids.has(e.id)) return `${where} (${e.name}): a name or id used twice`;
    names.add(e.name);
    ids.add(e.id);
  }
  return undefined;
};

/**
 * The local key group as keys.json holds it; undefined before the first start. `remedy` ends
 * the error of an unusable file (default: delete it to make a new one on the next start).
 */
export async function readKeyGroup(dir: string, remedy = REMAKE_KEYS): Promise<KeyEntry[] | undefined> {
  return readJson<KeyEntry[]>(paths(dir).keyGroup, keyGroupShape, remedy);
}

/** Checks that the active key's private half is there and matches the public key listed. */
async function checkPrivateKey(dir: string, entry: KeyEntry): Promise<void> {
  const file = paths(dir).privateKey(entry.name);
  const remedy = `put back the key listed for ${entry.name} (${entry.id}), or ${REMAKE_KEYS}`;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'missing' : `not a usable private key (${code ?? 'unreadable'})`;
    throw new StateError(file, `${problem}, yet keys.json lists it as the active key`, remedy);
  }
  const der = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
  if (!der(createPublicKey(privateKey)).equals(der(createPublicKey(entry.publicKey)))) {
    throw new StateError(file, 'does not match the public key keys.json lists for it', remedy);
  }
}

/**
 * The local key group, with its single active key whose private half matches; on first
 * start, one new active key.
 */
export async function ensureKeyGroup(dir: string): Promise<{ entries: KeyEntry[]; active: KeyEntry }> {
  const existing = await readKeyGroup(dir);
  if (existing) {
    let active: KeyEntry;
    try {
      active = activeKey(existing);
    } catch (error) {
      throw new StateError(paths(dir).keyGroup, (error as Error).message, REMAKE_KEYS);
    }
    await checkPrivateKey(dir, active);
    return { entries: existing, active };
  }
  const first = await createKey(dir, 'local-1', 'active');
  await writeJson(paths(dir).keyGroup, [first]);
  return { entries: [first], active: first };
}

/** The single active key; the signer uses it. */
export function activeKey(entries: readonly KeyEntry[]): KeyEntry {
  const active = entries.filter((e) => e.status === 'active');
  if (active.length !== 1 || !active[0]) {
    throw new Error(`the key group must have exactly one active key, it has ${active.length}`);
  }
  return active[0];
}

/** Key-Pair-Id → public key, for every key CloudFront would trust (all but retired). */
export function trustedKeys(entries: readonly KeyEntry[]): Map<string, KeyObject> {
  return new Map(
    entries.filter((e) => e.status !== 'retired').map((e) => [e.id, createPublicKey(e.publicKey)]),
  );
}
