// Verifies CloudFront signed URLs as the edge does, for the local stand-in of the distribution.
//
// The resource a URL is signed for is the URL as sent, minus the signing parameters. The
// signer (@aws-sdk/cloudfront-signer) re-encodes the URL it is given before signing (each path
// segment becomes encodeURIComponent(decodeURIComponent(segment)), each query name and value
// is percent-encoded with existing %XX escapes and "+" kept, "'" as %27) and hands back that
// very string with `&Expires=...&Key-Pair-Id=...&Signature=...` appended. So the policy is
// rebuilt from the raw path and raw query exactly as received, never from a decoded or
// re-encoded form: any byte a client changes, CloudFront (and this check) rejects.
import { type KeyObject, verify } from 'node:crypto';
import { globMatches } from './glob.ts';

/** Why CloudFront refuses a signed URL; it answers 403 for every one of them. */
export type CloudFrontUrlFailure =
  | 'MissingKey'
  | 'MalformedSignature'
  | 'UnknownKey'
  | 'BadSignature'
  | 'Expired'
  | 'NotYetValid'
  | 'ResourceMismatch'
  | 'IpMismatch';

/** The outcome: the request with the signing parameters removed, or why it is refused. */
export type CloudFrontUrlResult =
  | { ok: true; path: string; query: string }
  | { ok: false; code: CloudFrontUrlFailure; message: string };

export interface CloudFrontUrlInput {
  /** The public origin the URL was signed for, e.g. `http://127.0.0.1:8080` (no trailing slash needed). */
  readonly origin: string;
  /** The request target, path and query, exactly as received. */
  readonly rawPath: string;
  /** The key group: Key-Pair-Id to public key. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** The current time. */
  readonly now: Date;
  /** The viewer's address, checked against a custom policy's `AWS:SourceIp`. */
  readonly clientIp?: string;
}

/** The query parameters CloudFront consumes and strips before the origin. */
const SIGNING_PARAMS = new Set(['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']);
/** CloudFront's URL-safe base64: `+` as `-`, `=` as `_`, `/` as `~`. */
const SAFE_BASE64 = /^[A-Za-z0-9~-]+_{0,2}$/;
const EPOCH_SECONDS = /^[1-9][0-9]{0,9}$/;
/** AWS: "a 32-bit integer for a date that's no later than 2147483647". */
const MAX_EPOCH_SECONDS = 2 ** 31 - 1;
/** Hash-Algorithm values CloudFront accepts, to node:crypto names (a Map: no inherited keys). */
const HASHES: ReadonlyMap<string, string> = new Map([
  ['SHA1', 'sha1'],
  ['SHA256', 'sha256'],
]);

function fail(code: CloudFrontUrlFailure, message: string): CloudFrontUrlResult {
  return { ok: false, code, message };
}

function decodeSafeBase64(value: string): Buffer | undefined {
  if (!SAFE_BASE64.test(value)) return undefined;
  const base64 = value.replace(/[-_~]/g, (c) => (c === '-' ? '+' : c === '_' ? '=' : '/'));
  return Buffer.from(base64, 'base64');
}

/** An IPv4 address as an unsigned 32-bit number, or undefined (IPv4-mapped IPv6 accepted). */
function ipv4ToNumber(address: string): number | undefined {
  const parts = address.replace(/^::ffff:/i, '').split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Whether `ip` lies in `cidr` (`a.b.c.d` or `a.b.c.d/n`); undefined when `cidr` is malformed. */
function inCidr(ip: string | undefined, cidr: string): boolean | undefined {
  const [base = '', bits = '32', ...rest] = cidr.split('/');
  const network = ipv4ToNumber(base);
  if (network === undefined || rest.length > 0 || !/^([0-9]|[12][0-9]|3[0-2])$/.test(bits)) return undefined;
  const address = ip === undefined ? undefined : ipv4ToNumber(ip);
  if (address === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(address / size) === Math.floor(network / size);
}

/** A JSON object (not an array, not null). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An epoch time in seconds as CloudFront takes one: a whole number of 32 bits at most. */
function isEpochSeconds(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= MAX_EPOCH_SECONDS;
}

/** A condition's `AWS:EpochTime`: undefined when the condition is absent, null when malformed. */
function epochSeconds(condition: unknown): number | undefined | null {
  if (condition === undefined) return undefined;
  const time = isObject(condition) ? condition['AWS:EpochTime'] : undefined;
  return typeof time === 'number' && isEpochSeconds(time) ? time : null;
}

/** RSA PKCS#1 v1.5 verification; a key that cannot verify counts as a bad signature. */
function verifies(hash: string, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

interface CustomPolicy {
  readonly resource: string | undefined;
  readonly dateLessThan: number;
  readonly dateGreaterThan: number | undefined;
  readonly sourceIp: string | undefined;
}

/**
 * The names a custom policy may use, each with the names allowed inside it. AWS: "Include
 * all punctuation and parameter names exactly as specified. Abbreviations for parameter
 * names are not accepted." A misspelt condition is refused, never skipped, so a signer's
 * typo cannot drop a restriction here and fail on AWS.
 */
const POLICY_NAMES: Readonly<Record<string, readonly string[]>> = {
  policy: ['Statement'],
  statement: ['Resource', 'Condition'],
  Condition: ['DateLessThan', 'DateGreaterThan', 'IpAddress'],
  DateLessThan: ['AWS:EpochTime'],
  DateGreaterThan: ['AWS:EpochTime'],
  IpAddress: ['AWS:SourceIp'],
};

/** The first name in a policy object that is not allowed where it stands, if any. */
function strayName(value: unknown, where: string): string | undefined {
  if (!isObject(value)) return undefined;
  const allowed = POLICY_NAMES[where] ?? [];
  for (const [name, inner] of Object.entries(value)) {
    if (!allowed.includes(name)) return name;
    const stray = name in POLICY_NAMES ? strayName(inner, name) : undefined;
    if (stray !== undefined) return stray;
  }
  return undefined;
}

/** Reads the one statement of a custom policy; a string says what is wrong with it. */
function parsePolicy(text: string): CustomPolicy | string {
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    return 'the policy is not JSON';
  }
  const statements = (policy as { Statement?: unknown } | null)?.Statement;
  if (!Array.isArray(statements) || statements.length !== 1) {
    return 'the policy must have exactly one statement';
  }
  const stray = strayName(policy, 'policy') ?? strayName(statements[0], 'statement');
  if (stray !== undefined) return `the policy holds an unknown name: ${JSON.stringify(stray)}`;
  // Every part in the one shape AWS documents: a condition in another shape (an array, a
  // string, null) is refused, never read as absent, so it cannot drop a restriction.
  const [statement] = statements;
  if (!isObject(statement)) return 'the policy statement is not an object';
  const resource = statement.Resource;
  if (resource !== undefined && typeof resource !== 'string') return 'the policy Resource is not a string';
  const condition = statement.Condition;
  if (!isObject(condition)) return 'the policy has no Condition object';
  const dateLessThan = epochSeconds(condition.DateLessThan);
  if (dateLessThan === undefined || dateLessThan === null) return 'the policy has no DateLessThan epoch time';
  const dateGreaterThan = epochSeconds(condition.DateGreaterThan);
  if (dateGreaterThan === null) return 'the policy DateGreaterThan is not an epoch time';
  const ipAddress = condition.IpAddress;
  let sourceIp: string | undefined;
  if (ipAddress !== undefined) {
    const value = isObject(ipAddress) ? ipAddress['AWS:SourceIp'] : undefined;
    if (typeof value !== 'string') return 'the policy IpAddress does not hold an AWS:SourceIp string';
    sourceIp = value;
  }
  return { resource, dateLessThan, dateGreaterThan, sourceIp };
}

/**
 * Checks a CloudFront signed URL (canned or custom policy, SHA-1 or SHA-256) against the key
 * group at `now`; on success returns the raw path and the raw query without the signing
 * parameters, as CloudFront forwards them.
 */
export function verifyCloudFrontUrl(input: CloudFrontUrlInput): CloudFrontUrlResult {
  const { rawPath, keys, now, clientIp } = input;
  const origin = input.origin.replace(/\/+$/, '');
  const mark = rawPath.indexOf('?');
  const path = mark === -1 ? rawPath : rawPath.slice(0, mark);
  const rawQuery = mark === -1 ? '' : rawPath.slice(mark + 1);

  const kept: string[] = [];
  const signing = new Map<string, string>();
  for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (!SIGNING_PARAMS.has(name)) {
      kept.push(pair);
      continue;
    }
    if (signing.has(name)) return fail('MalformedSignature', `${name} is given more than once`);
    try {
      signing.set(name, decodeURIComponent(eq === -1 ? '' : pair.slice(eq + 1)));
    } catch {
      return fail('MalformedSignature', `${name} is not valid percent-encoding`);
    }
  }
  const query = kept.join('&');
  const url = `${origin}${path}${query === '' ? '' : `?${query}`}`;

  const signature = signing.get('Signature');
  const keyPairId = signing.get('Key-Pair-Id');
  const expires = signing.get('Expires');
  const encodedPolicy = signing.get('Policy');
  if (signature === undefined) return fail('MissingKey', 'the URL has no Signature');
  if (keyPairId === undefined) return fail('MissingKey', 'the URL has no Key-Pair-Id');
  if (expires === undefined && encodedPolicy === undefined) {
    return fail('MissingKey', 'the URL has neither Expires nor Policy');
  }
  if (expires !== undefined && encodedPolicy !== undefined) {
    return fail('MalformedSignature', 'the URL has both Expires and Policy');
  }
  const hashName = signing.get('Hash-Algorithm') ?? 'SHA1';
  const hash = HASHES.get(hashName);
  if (hash === undefined) return fail('MalformedSignature', `unsupported Hash-Algorithm ${hashName}`);

  const key = keys.get(keyPairId);
  if (key === undefined) return fail('UnknownKey', `Key-Pair-Id ${keyPairId} is not in the key group`);
  const signatureBytes = decodeSafeBase64(signature);
  if (signatureBytes === undefined) {
    return fail('MalformedSignature', 'the Signature is not CloudFront base64');
  }

  let policyBytes: Buffer;
  if (encodedPolicy !== undefined) {
    const decoded = decodeSafeBase64(encodedPolicy);
    if (decoded === undefined) return fail('MalformedSignature', 'the Policy is not CloudFront base64');
    policyBytes = decoded;
  } else {
    if (expires === undefined || !EPOCH_SECONDS.test(expires) || !isEpochSeconds(Number(expires))) {
      return fail('MalformedSignature', 'Expires is not an epoch time in seconds');
    }
    // Byte for byte what the signer signs: JSON.stringify of the canned statement.
    const canned = {
      Statement: [{ Resource: url, Condition: { DateLessThan: { 'AWS:EpochTime': Number(expires) } } }],
    };
    policyBytes = Buffer.from(JSON.stringify(canned), 'utf8');
  }
  if (!verifies(hash, policyBytes, key, signatureBytes)) {
    return fail('BadSignature', 'the signature does not match the policy and key');
  }

  let dateLessThan = Number(expires);
  let dateGreaterThan: number | undefined;
  let custom: CustomPolicy | undefined;
  if (encodedPolicy !== undefined) {
    const parsed = parsePolicy(policyBytes.toString('utf8'));
    if (typeof parsed === 'string') return fail('MalformedSignature', parsed);
    custom = parsed;
    dateLessThan = parsed.dateLessThan;
    dateGreaterThan = parsed.dateGreaterThan;
  }
  if (now.getTime() >= dateLessThan * 1000) return fail('Expired', `the URL expired at ${dateLessThan}`);
  if (dateGreaterThan !== undefined && now.getTime() < dateGreaterThan * 1000) {
    return fail('NotYetValid', `the URL is valid from ${dateGreaterThan}`);
  }
  if (custom?.sourceIp !== undefined) {
    const inside = inCidr(clientIp, custom.sourceIp);
    if (inside === undefined) {
      return fail('MalformedSignature', `the policy AWS:SourceIp ${custom.sourceIp} is not IPv4 CIDR`);
    }
    if (!inside)
      return fail('IpMismatch', `the viewer ${clientIp ?? '(unknown)'} is outside ${custom.sourceIp}`);
  }
  if (custom?.resource !== undefined && !globMatches(custom.resource, url)) {
    return fail('ResourceMismatch', 'the policy Resource does not cover this URL');
  }
  return { ok: true, path, query };
}
