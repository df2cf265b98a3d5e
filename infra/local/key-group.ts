import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { paths, readJson, writeJson, writeText } from './state.ts';

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

/** Creates an RSA 2048 key pair: the private half under the state folder (0600), the entry returned. */
export async function createKey(dir: string, name: string, status: KeyStatus): Promise<KeyEntry> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeText(
    paths(dir).privateKey(name),
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    {
      secret: true,
    },
  );
  return {
    name,
    id: newKeyId(),
    status,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    createdAt: new Date().toISOString(),
  };
}

export async function readKeyGroup(dir: string): Promise<KeyEntry[] | undefined> {
  return readJson<KeyEntry[]>(paths(dir).keyGroup);
}

/** The local key group; on first start, one new active key. */
export async function ensureKeyGroup(dir: string): Promise<KeyEntry[]> {
  const existing = await readKeyGroup(dir);
  if (existing && existing.length > 0) return existing;
  const first = await createKey(dir, 'local-1', 'active');
  await writeJson(paths(dir).keyGroup, [first]);
  return [first];
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
