import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { ConfigError } from './errors.ts';

export type Via = 's3' | 'cdn';

/** Every setting Signet reads, validated once at cold start. See the README's "Configure". */
export interface Config {
  /** The private bucket holding the objects. `SIGNET_BUCKET`, required. */
  readonly bucket: string;
  /** The bucket's region. `SIGNET_REGION`, default `AWS_REGION`. */
  readonly region: string;
  /**
   * A custom S3 endpoint (path-style), for the local stand-in. `SIGNET_S3_ENDPOINT`,
   * default none: the regional virtual-hosted endpoint.
   */
  readonly s3Endpoint: URL | undefined;
  /**
   * Origin of the CloudFront distribution that serves `/files/*`, as `https://d111.cloudfront.net`.
   * `SIGNET_DISTRIBUTION_DOMAIN` (a bare domain means https), default none: `via=cdn` is off.
   */
  readonly distributionOrigin: URL | undefined;
  /** CloudFront public key id of the active signing key. `SIGNET_CF_KEY_PAIR_ID`, required with a distribution. */
  readonly cloudFrontKeyPairId: string | undefined;
  /** File holding the active key's private PEM. `SIGNET_CF_PRIVATE_KEY_FILE`, required with a distribution. */
  readonly cloudFrontPrivateKeyFile: string | undefined;
  /** Default `via`. `SIGNET_DEFAULT_VIA`, default `cdn` where a distribution is configured, else `s3`. */
  readonly defaultVia: Via;
  /** Life of a signed URL, in seconds. `SIGNET_URL_TTL_SECONDS`, default 300, at most 3600. */
  readonly urlTtlSeconds: number;
  /** Signing time is rounded down to this many seconds. `SIGNET_URL_STABILITY_SECONDS`, default 60. */
  readonly urlStabilitySeconds: number;
  /** Exact `iss`. `SIGNET_ISSUER`, required. */
  readonly issuer: string;
  /** Exact `aud`. `SIGNET_AUDIENCE`, required. */
  readonly audience: string;
  /** Where the issuer's public keys are. `SIGNET_JWKS_URL`, required (https, or http on loopback). */
  readonly jwksUrl: URL;
  /** Accepted JWS algorithms. `SIGNET_ALGORITHMS`, comma-separated, default `RS256,ES256`. */
  readonly algorithms: readonly string[];
  /** Leeway for `exp`/`nbf`/`iat`, in seconds. `SIGNET_CLOCK_TOLERANCE_SECONDS`, default 30. */
  readonly clockToleranceSeconds: number;
  /** Cookie that may carry the token. `SIGNET_COOKIE_NAME`, default `signet_token`. */
  readonly cookieName: string;
  /** Prefixes a caller may read, `{sub}` templated. `SIGNET_READ_PREFIXES`, default `public/,users/{sub}/`. */
  readonly readPrefixes: readonly string[];
  /**
   * The handlers' log level. `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`, default none: Powertools'
   * own (INFO). Lambda's Advanced Logging Controls, where set, decide over it.
   */
  readonly logLevel: LogLevelName | undefined;
}

/** A log level Powertools knows, in its spelling (upper case). */
export type LogLevelName = keyof typeof LogLevelThreshold;

/** Where settings are read: `process.env` on Lambda, an object of its own elsewhere. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Asymmetric JWS algorithms jose supports; HMAC and `none` are never accepted. */
const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** What S3's naming rules forbid beyond the characters: `..`, an IP address, reserved ends. */
const RESERVED_BUCKET_NAME =
  /\.\.|^\d+\.\d+\.\d+\.\d+$|^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\.mrap|--table-s3)$/;

/** Whether `name` is a bucket name S3 allows: its characters, and none of its reserved forms. */
export function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !RESERVED_BUCKET_NAME.test(name);
}
// Every partition's form: us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1.
const REGION = /^[a-z]{2,4}(-[a-z]+)+-\d+$/;
const KEY_PAIR_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A setting's value as an error message may show it: a key pasted where a path belongs, or
 * anything over several lines, is not shown; a URL's user name and password are masked.
 */
export function shownValue(value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (value.includes('-----BEGIN') || /PRIVATE KEY/.test(value))
    return 'a PEM key (not shown), not a file path';
  if (/[\r\n]/.test(value)) return `${value.length} characters over several lines (not shown)`;
  // A bare base64 key body, pasted without its PEM lines.
  if (/^[A-Za-z0-9+/=]{100,}$/.test(value)) return `${value.length} characters of base64 (not shown)`;
  // Everything between the scheme (with or without "//") and the last "@": a password may hold "/", "#" or "?".
  return `"${value.replace(/^([a-z][a-z0-9+.-]*:\/*).*@/i, '$1***@')}"`;
}

function fail(name: string, value: string | undefined, why: string): never {
  throw new ConfigError(`${name} is ${shownValue(value)}: ${why}`);
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) fail(name, env[name], 'it is required');
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) fail(name, raw, 'expected a whole number of seconds');
  const value = Number(raw);
  if (value < min || value > max) fail(name, raw, `expected a number from ${min} to ${max}`);
  return value;
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

function url(name: string, raw: string, { allowPath }: { allowPath: boolean }): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    fail(name, raw, 'expected an absolute URL');
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed))) {
    fail(name, raw, 'expected https (plain http is only allowed on loopback)');
  }
  if (parsed.username || parsed.password || parsed.hash || (!allowPath && parsed.search)) {
    fail(name, raw, 'credentials, query and fragment are not allowed');
  }
  if (!allowPath && parsed.pathname !== '/') fail(name, raw, 'expected an origin without a path');
  return parsed;
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/**
 * Reads and validates every setting once. Throws a ConfigError naming the variable and
 * its bad value; the returned object is frozen.
 */
export function loadConfig(env: Env): Config {
  const bucket = required(env, 'SIGNET_BUCKET');
  if (!isBucketName(bucket)) {
    fail('SIGNET_BUCKET', bucket, 'not a valid S3 bucket name');
  }
  if (bucket.endsWith('--x-s3')) {
    // Its objects are read with S3 Express session credentials, which a presigned URL cannot carry.
    fail('SIGNET_BUCKET', bucket, 'a directory bucket (S3 Express One Zone) is not supported');
  }

  const regionName = env.SIGNET_REGION?.trim() ? 'SIGNET_REGION' : 'AWS_REGION';
  const region = optional(env, regionName);
  if (region === undefined) fail('SIGNET_REGION (or AWS_REGION)', undefined, 'one of them is required');
  if (!REGION.test(region)) fail(regionName, region, 'not an AWS region name');
  if (region.startsWith('fips-')) {
    fail(
      regionName,
      region,
      'a FIPS pseudo-region: give the region itself and set AWS_USE_FIPS_ENDPOINT=true',
    );
  }

  const s3EndpointRaw = optional(env, 'SIGNET_S3_ENDPOINT');
  const s3Endpoint = s3EndpointRaw
    ? url('SIGNET_S3_ENDPOINT', s3EndpointRaw, { allowPath: false })
    : undefined;

  const distributionRaw = optional(env, 'SIGNET_DISTRIBUTION_DOMAIN');
  const distributionOrigin = distributionRaw
    ? url(
        'SIGNET_DISTRIBUTION_DOMAIN',
        distributionRaw.includes('://') ? distributionRaw : `https://${distributionRaw}`,
        { allowPath: false },
      )
    : undefined;

  let cloudFrontKeyPairId: string | undefined;
  let cloudFrontPrivateKeyFile: string | undefined;
  if (!distributionOrigin) {
    // A CloudFront key with no distribution is a half-done setup, not a choice of via=s3.
    for (const name of ['SIGNET_CF_KEY_PAIR_ID', 'SIGNET_CF_PRIVATE_KEY_FILE']) {
      const value = optional(env, name);
      if (value) fail(name, value, 'is set but SIGNET_DISTRIBUTION_DOMAIN is not');
    }
  } else {
    cloudFrontKeyPairId = required(env, 'SIGNET_CF_KEY_PAIR_ID');
    if (!KEY_PAIR_ID.test(cloudFrontKeyPairId)) {
      fail('SIGNET_CF_KEY_PAIR_ID', cloudFrontKeyPairId, 'expected letters, digits, "_" or "-"');
    }
    cloudFrontPrivateKeyFile = required(env, 'SIGNET_CF_PRIVATE_KEY_FILE');
  }

  const viaRaw = optional(env, 'SIGNET_DEFAULT_VIA') ?? (distributionOrigin ? 'cdn' : 's3');
  if (viaRaw !== 's3' && viaRaw !== 'cdn') fail('SIGNET_DEFAULT_VIA', viaRaw, 'expected "s3" or "cdn"');
  if (viaRaw === 'cdn' && !distributionOrigin) {
    fail('SIGNET_DEFAULT_VIA', viaRaw, '"cdn" needs SIGNET_DISTRIBUTION_DOMAIN');
  }

  const urlTtlSeconds = integer(env, 'SIGNET_URL_TTL_SECONDS', 300, 2, 3600);
  const urlStabilitySeconds = integer(env, 'SIGNET_URL_STABILITY_SECONDS', 60, 1, 3600);
  if (urlStabilitySeconds >= urlTtlSeconds) {
    const set = optional(env, 'SIGNET_URL_STABILITY_SECONDS');
    fail(
      'SIGNET_URL_STABILITY_SECONDS',
      set,
      `${set ? 'it' : `its default, ${urlStabilitySeconds},`} must be below SIGNET_URL_TTL_SECONDS (${urlTtlSeconds}) so every URL has time left to live`,
    );
  }

  const issuer = required(env, 'SIGNET_ISSUER');
  const audience = required(env, 'SIGNET_AUDIENCE');
  const jwksRaw = required(env, 'SIGNET_JWKS_URL');
  const jwksUrl = url('SIGNET_JWKS_URL', jwksRaw, { allowPath: true });

  const algorithmsRaw = optional(env, 'SIGNET_ALGORITHMS') ?? 'RS256,ES256';
  const algorithms = list(algorithmsRaw);
  if (algorithms.length === 0) fail('SIGNET_ALGORITHMS', algorithmsRaw, 'expected at least one algorithm');
  for (const algorithm of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(algorithm)) {
      fail('SIGNET_ALGORITHMS', algorithmsRaw, `"${algorithm}" is not an accepted asymmetric algorithm`);
    }
  }

  const clockToleranceSeconds = integer(env, 'SIGNET_CLOCK_TOLERANCE_SECONDS', 30, 0, 300);

  const cookieName = optional(env, 'SIGNET_COOKIE_NAME') ?? 'signet_token';
  if (!COOKIE_NAME.test(cookieName)) fail('SIGNET_COOKIE_NAME', cookieName, 'not a valid cookie name');

  const prefixesRaw = optional(env, 'SIGNET_READ_PREFIXES') ?? 'public/,users/{sub}/';
  const readPrefixes = list(prefixesRaw);
  if (readPrefixes.length === 0) {
    fail('SIGNET_READ_PREFIXES', prefixesRaw, 'expected at least one prefix (downloads:all reads any key)');
  }
  for (const prefix of readPrefixes) {
    if (!prefix.endsWith('/') || prefix.includes('//')) {
      // "public" would let a caller read "publicity/...": a prefix is whole folders.
      fail('SIGNET_READ_PREFIXES', prefixesRaw, `"${prefix}" must end with "/" and hold no empty segment`);
    }
    if (prefix.startsWith('/') || prefix.split('/').some((part) => part === '.' || part === '..')) {
      fail('SIGNET_READ_PREFIXES', prefixesRaw, `"${prefix}" must not start with "/" or hold "." segments`);
    }
    if (/(?<!\/)\{sub\}|\{sub\}(?!\/)/.test(prefix)) {
      // A {sub} is a whole segment under a fixed folder. "users/{sub}" would let sub "alic"
      // read "users/alice..."; "users/u{sub}/" gives sub "x" the folder of sub "ux"; "{sub}/"
      // gives sub "internal" the folder "internal/".
      fail(
        'SIGNET_READ_PREFIXES',
        prefixesRaw,
        `"${prefix}": {sub} must be a whole segment under a fixed folder, as in "users/{sub}/"`,
      );
    }
    const withoutSub = prefix.replaceAll('{sub}', '');
    if (withoutSub.includes('{') || withoutSub.includes('}')) {
      fail('SIGNET_READ_PREFIXES', prefixesRaw, `"${prefix}": only {sub} may be templated`);
    }
  }

  // Where Powertools would read it (LOG_LEVEL when this one is unset), in any case, as its
  // constructor takes it; but checked: from the environment Powertools takes anything it does
  // not know for INFO without a word.
  const logLevelName =
    optional(env, 'POWERTOOLS_LOG_LEVEL') === undefined ? 'LOG_LEVEL' : 'POWERTOOLS_LOG_LEVEL';
  const logLevelRaw = optional(env, logLevelName);
  const logLevel = logLevelRaw?.toUpperCase();
  if (logLevel !== undefined && !Object.hasOwn(LogLevelThreshold, logLevel)) {
    fail(
      logLevelName,
      logLevelRaw,
      `expected one of ${Object.keys(LogLevelThreshold).join(', ')}${
        logLevelName === 'LOG_LEVEL' ? ' (read as the log level while POWERTOOLS_LOG_LEVEL is unset)' : ''
      }`,
    );
  }

  return Object.freeze({
    bucket,
    region,
    s3Endpoint,
    distributionOrigin,
    cloudFrontKeyPairId,
    cloudFrontPrivateKeyFile,
    defaultVia: viaRaw,
    urlTtlSeconds,
    urlStabilitySeconds,
    issuer,
    audience,
    jwksUrl,
    algorithms: Object.freeze(algorithms),
    clockToleranceSeconds,
    cookieName,
    readPrefixes: Object.freeze(readPrefixes),
    logLevel: logLevel as LogLevelName | undefined,
  });
}
