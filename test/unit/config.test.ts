import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/core/config.ts';
import { ConfigError } from '../../api/core/errors.ts';

/** The smallest valid environment. */
const BASE = {
  SIGNET_BUCKET: 'signet-test',
  SIGNET_REGION: 'us-east-1',
  SIGNET_ISSUER: 'https://issuer.test',
  SIGNET_AUDIENCE: 'signet',
  SIGNET_JWKS_URL: 'https://issuer.test/.well-known/jwks.json',
} as const;

const WITH_DISTRIBUTION = {
  ...BASE,
  SIGNET_DISTRIBUTION_DOMAIN: 'd111.cloudfront.net',
  SIGNET_CF_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
  SIGNET_CF_PRIVATE_KEY_FILE: '/secrets/cf.pem',
} as const;

type Env = Record<string, string | undefined>;

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    // Act
    const config = loadConfig(BASE);

    // Assess
    expect(config).toEqual({
      bucket: 'signet-test',
      region: 'us-east-1',
      s3Endpoint: undefined,
      distributionOrigin: undefined,
      cloudFrontKeyPairId: undefined,
      cloudFrontPrivateKeyFile: undefined,
      defaultVia: 's3',
      urlTtlSeconds: 300,
      urlStabilitySeconds: 60,
      issuer: 'https://issuer.test',
      audience: 'signet',
      jwksUrl: new URL('https://issuer.test/.well-known/jwks.json'),
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 30,
      cookieName: 'signet_token',
      readPrefixes: ['public/', 'users/{sub}/'],
    });
  });

  it('defaults via to cdn where a distribution is configured', () => {
    // Act
    const config = loadConfig(WITH_DISTRIBUTION);

    // Assess
    expect(config.defaultVia).toBe('cdn');
    expect(config.distributionOrigin?.href).toBe('https://d111.cloudfront.net/');
    expect(config.cloudFrontKeyPairId).toBe('K2JCJMDEHXQW5F');
    expect(config.cloudFrontPrivateKeyFile).toBe('/secrets/cf.pem');
  });

  it('lets SIGNET_DEFAULT_VIA pick s3 even with a distribution', () => {
    // Act
    const config = loadConfig({ ...WITH_DISTRIBUTION, SIGNET_DEFAULT_VIA: 's3' });

    // Assess
    expect(config.defaultVia).toBe('s3');
  });

  it('reads every setting when given', () => {
    // Prepare
    const env: Env = {
      ...WITH_DISTRIBUTION,
      SIGNET_S3_ENDPOINT: 'http://127.0.0.1:9000',
      SIGNET_URL_TTL_SECONDS: '3600',
      SIGNET_URL_STABILITY_SECONDS: '120',
      SIGNET_ALGORITHMS: ' ES384 , PS256 ',
      SIGNET_CLOCK_TOLERANCE_SECONDS: '0',
      SIGNET_COOKIE_NAME: 'session',
      SIGNET_READ_PREFIXES: 'shared/, teams/{sub}/reports/',
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).toMatchObject({
      s3Endpoint: new URL('http://127.0.0.1:9000'),
      urlTtlSeconds: 3600,
      urlStabilitySeconds: 120,
      algorithms: ['ES384', 'PS256'],
      clockToleranceSeconds: 0,
      cookieName: 'session',
      readPrefixes: ['shared/', 'teams/{sub}/reports/'],
    });
  });

  it('falls back to AWS_REGION when SIGNET_REGION is unset', () => {
    // Prepare
    const { SIGNET_REGION: _unused, ...rest } = BASE;

    // Act
    const config = loadConfig({ ...rest, AWS_REGION: 'eu-west-3' });

    // Assess
    expect(config.region).toBe('eu-west-3');
  });

  it.each(['us-east-1', 'ap-southeast-5', 'us-gov-west-1', 'cn-north-1', 'us-isob-east-1', 'eusc-de-east-1'])(
    'accepts the region %s, of any AWS partition',
    (region) => {
      // Act
      const config = loadConfig({ ...BASE, SIGNET_REGION: region });

      // Assess
      expect(config.region).toBe(region);
    },
  );

  it.each([
    ['SIGNET_BUCKET', undefined, 'unset'],
    ['SIGNET_BUCKET', '  ', '"  "'],
    ['SIGNET_BUCKET', 'Bad_Bucket', '"Bad_Bucket"'],
    ['SIGNET_BUCKET', 'two..dots', '"two..dots"'],
    ['SIGNET_BUCKET', '192.168.5.4', '"192.168.5.4"'],
    ['SIGNET_BUCKET', 'xn--bucket', '"xn--bucket"'],
    ['SIGNET_BUCKET', 'sthree-bucket', '"sthree-bucket"'],
    ['SIGNET_BUCKET', 'amzn-s3-demo-bucket', '"amzn-s3-demo-bucket"'],
    ['SIGNET_BUCKET', 'files--table-s3', '"files--table-s3"'],
    ['SIGNET_BUCKET', 'my-ap-abc123-s3alias', '"my-ap-abc123-s3alias"'],
    ['SIGNET_BUCKET', 'files--ol-s3', '"files--ol-s3"'],
    ['SIGNET_BUCKET', 'files--use1-az4--x-s3', '"files--use1-az4--x-s3"'],
    ['SIGNET_REGION', 'mars', '"mars"'],
    ['SIGNET_REGION', 'US-EAST-1', '"US-EAST-1"'],
    ['SIGNET_REGION', 'us-east-1a', '"us-east-1a"'],
    ['SIGNET_REGION', 'fips-us-gov-west-1', '"fips-us-gov-west-1"'],
    ['SIGNET_S3_ENDPOINT', 'not a url', '"not a url"'],
    ['SIGNET_S3_ENDPOINT', 'http://s3.example.com', '"http://s3.example.com"'],
    ['SIGNET_S3_ENDPOINT', 'https://s3.example.com/prefix', '"https://s3.example.com/prefix"'],
    ['SIGNET_S3_ENDPOINT', 'https://user:pw@s3.example.com', '"https://***@s3.example.com"'],
    ['SIGNET_DISTRIBUTION_DOMAIN', 'http://d111.cloudfront.net', '"http://d111.cloudfront.net"'],
    ['SIGNET_DISTRIBUTION_DOMAIN', 'd111.cloudfront.net/files', '"https://d111.cloudfront.net/files"'],
    ['SIGNET_DEFAULT_VIA', 'ftp', '"ftp"'],
    ['SIGNET_DEFAULT_VIA', 'cdn', '"cdn"'],
    ['SIGNET_URL_TTL_SECONDS', 'five', '"five"'],
    ['SIGNET_URL_TTL_SECONDS', '1.5', '"1.5"'],
    ['SIGNET_URL_TTL_SECONDS', '-5', '"-5"'],
    ['SIGNET_URL_TTL_SECONDS', '3601', '"3601"'],
    ['SIGNET_URL_STABILITY_SECONDS', '0', '"0"'],
    ['SIGNET_URL_STABILITY_SECONDS', '300', '"300"'],
    ['SIGNET_URL_STABILITY_SECONDS', '301', '"301"'],
    ['SIGNET_ISSUER', undefined, 'unset'],
    ['SIGNET_ISSUER', '', '""'],
    ['SIGNET_AUDIENCE', undefined, 'unset'],
    ['SIGNET_JWKS_URL', undefined, 'unset'],
    ['SIGNET_JWKS_URL', 'jwks.json', '"jwks.json"'],
    ['SIGNET_JWKS_URL', 'http://issuer.example/jwks', '"http://issuer.example/jwks"'],
    ['SIGNET_JWKS_URL', 'http://10.0.0.1/jwks', '"http://10.0.0.1/jwks"'],
    ['SIGNET_JWKS_URL', 'http://localhost.evil.example/jwks', '"http://localhost.evil.example/jwks"'],
    ['SIGNET_JWKS_URL', 'ftp://issuer.example/jwks', '"ftp://issuer.example/jwks"'],
    ['SIGNET_JWKS_URL', 'https://issuer.test/jwks#frag', '"https://issuer.test/jwks#frag"'],
    ['SIGNET_ALGORITHMS', 'HS256', '"HS256"'],
    ['SIGNET_ALGORITHMS', 'none', '"none"'],
    ['SIGNET_ALGORITHMS', 'RS256,HS512', '"RS256,HS512"'],
    ['SIGNET_ALGORITHMS', ' , ', '","'],
    ['SIGNET_CLOCK_TOLERANCE_SECONDS', '301', '"301"'],
    ['SIGNET_CLOCK_TOLERANCE_SECONDS', 'soon', '"soon"'],
    ['SIGNET_COOKIE_NAME', 'my cookie', '"my cookie"'],
    ['SIGNET_COOKIE_NAME', 'a;b', '"a;b"'],
    ['SIGNET_READ_PREFIXES', '/abs/', '"/abs/"'],
    ['SIGNET_READ_PREFIXES', 'public/,../up/', '"public/,../up/"'],
    ['SIGNET_READ_PREFIXES', 'a/./b/', '"a/./b/"'],
    ['SIGNET_READ_PREFIXES', 'users/{user}/', '"users/{user}/"'],
    // "public" would let a caller read "publicity/secret.pdf".
    ['SIGNET_READ_PREFIXES', 'public', '"public"'],
    ['SIGNET_READ_PREFIXES', 'public/,reports/2026-', '"public/,reports/2026-"'],
    ['SIGNET_READ_PREFIXES', 'users//', '"users//"'],
    ['SIGNET_READ_PREFIXES', ',', '","'],
    // A CloudFront key without a distribution: a half-done setup, not a choice of via=s3.
    ['SIGNET_CF_KEY_PAIR_ID', 'K2JCJMDEHXQW5F', '"K2JCJMDEHXQW5F"'],
    ['SIGNET_CF_PRIVATE_KEY_FILE', '/run/cf.pem', '"/run/cf.pem"'],
  ])('rejects %s=%j, naming the variable and its value', (name, value, shown) => {
    // Prepare
    const env: Env = { ...BASE, [name]: value };

    // Act
    const load = () => loadConfig(env);

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    // The message is the contract here: it names the variable and shows the bad value.
    expect(load).toThrow(name);
    expect(load).toThrow(shown);
  });

  it.each([
    [
      'a URL with a user and password',
      'SIGNET_JWKS_URL',
      'https://user:s3cr3tpass@issuer.example/jwks',
      '"https://***@issuer.example/jwks"',
      's3cr3tpass',
    ],
    [
      'a URL with a user and password',
      'SIGNET_S3_ENDPOINT',
      'http://AKIA:supersecret@example.com',
      '"http://***@example.com"',
      'supersecret',
    ],
    [
      'a private key pasted in place of its path',
      'SIGNET_CF_PRIVATE_KEY_FILE',
      '-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
      'a PEM key (not shown), not a file path',
      'MIIEvgIBADANBgkqhkiG9w0BAQEFAASC',
    ],
    ['a value over several lines', 'SIGNET_BUCKET', 'bucket\nsecret-line', 'not shown', 'secret'],
    [
      'a password holding "#"',
      'SIGNET_JWKS_URL',
      'https://user:pa#ss@issuer.example/jwks',
      '"https://***@issuer.example/jwks"',
      'pa#ss',
    ],
    [
      'credentials without "//"',
      'SIGNET_S3_ENDPOINT',
      'https:user:secret@s3.example.com',
      '"https:***@s3.example.com"',
      'secret',
    ],
    [
      'a bare base64 key body',
      'SIGNET_BUCKET',
      'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvuNMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ',
      'characters of base64 (not shown)',
      'MIIEvgIBADAN',
    ],
  ])('rejects %s in %s without echoing the secret part', (_, name, value, shown, secret) => {
    // Prepare: the CloudFront key check needs a distribution to run.
    const env: Env = { ...BASE, [name]: value };

    // Act
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toContain(name);
    expect(message).toContain(shown);
    expect(message).not.toContain(secret);
  });

  it('rejects AWS_REGION by name when it is the region used', () => {
    // Prepare
    const { SIGNET_REGION: _unused, ...rest } = BASE;

    // Act
    const load = () => loadConfig({ ...rest, AWS_REGION: 'nowhere' });

    // Assess
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(load).toThrow('AWS_REGION is "nowhere"');
  });

  it('rejects a missing region under both names it looked for', () => {
    // Prepare
    const { SIGNET_REGION: _unused, ...rest } = BASE;

    // Act
    const load = () => loadConfig({ ...rest, AWS_REGION: ' ' });

    // Assess
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(load).toThrow('SIGNET_REGION (or AWS_REGION) is unset: one of them is required');
  });

  it.each([
    ['SIGNET_CF_KEY_PAIR_ID', undefined, 'unset'],
    ['SIGNET_CF_KEY_PAIR_ID', 'K1 K2', '"K1 K2"'],
    ['SIGNET_CF_KEY_PAIR_ID', 'K1/../x', '"K1/../x"'],
    ['SIGNET_CF_PRIVATE_KEY_FILE', undefined, 'unset'],
  ])('with a distribution, rejects %s=%j', (name, value, shown) => {
    // Prepare
    const env: Env = { ...WITH_DISTRIBUTION, [name]: value };

    // Act
    const load = () => loadConfig(env);

    // Assess
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(load).toThrow(name);
    expect(load).toThrow(shown);
  });

  it.each(['HS256', 'HS384', 'HS512', 'none', 'dir'])(
    'never accepts %s in SIGNET_ALGORITHMS',
    (algorithm) => {
      // Act
      const load = () => loadConfig({ ...BASE, SIGNET_ALGORITHMS: `RS256,${algorithm}` });

      // Assess
      expect(load).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    },
  );

  it.each([
    ['60', '60'],
    ['120', '60'],
    ['3600', '3600'],
  ])('rejects a stability window of %s s with a TTL of %s s', (stability, ttl) => {
    // Act
    const load = () =>
      loadConfig({ ...BASE, SIGNET_URL_STABILITY_SECONDS: stability, SIGNET_URL_TTL_SECONDS: ttl });

    // Assess
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(load).toThrow('SIGNET_URL_STABILITY_SECONDS');
  });

  it('says when the stability window that is too long is the default one', () => {
    // Act
    const load = () =>
      loadConfig({ ...BASE, SIGNET_URL_STABILITY_SECONDS: undefined, SIGNET_URL_TTL_SECONDS: '30' });

    // Assess
    expect(load).toThrow(
      'SIGNET_URL_STABILITY_SECONDS is unset: its default, 60, must be below SIGNET_URL_TTL_SECONDS (30)',
    );
  });

  it('accepts a stability window just below the TTL', () => {
    // Act
    const config = loadConfig({ ...BASE, SIGNET_URL_STABILITY_SECONDS: '59', SIGNET_URL_TTL_SECONDS: '60' });

    // Assess
    expect(config).toMatchObject({ urlStabilitySeconds: 59, urlTtlSeconds: 60 });
  });

  it.each([
    ['3600', 3600],
    ['61', 61],
  ])('accepts a TTL of %s seconds', (raw, expected) => {
    // Act
    const config = loadConfig({ ...BASE, SIGNET_URL_TTL_SECONDS: raw });

    // Assess
    expect(config.urlTtlSeconds).toBe(expected);
  });

  it.each([
    'http://127.0.0.1:4000/jwks',
    'http://localhost/jwks',
    'http://[::1]:8080/.well-known/jwks.json',
    'https://issuer.example/keys?tenant=a',
  ])('accepts the JWKS URL %s', (jwks) => {
    // Act
    const config = loadConfig({ ...BASE, SIGNET_JWKS_URL: jwks });

    // Assess
    expect(config.jwksUrl.href).toBe(new URL(jwks).href);
  });

  it.each([
    ['DEBUG', 'DEBUG'],
    ['WARN', 'WARN'],
    ['SILENT', 'SILENT'],
    ['CRITICAL', 'CRITICAL'],
    // Handed to the logger's constructor, which takes any case.
    ['debug', 'DEBUG'],
    ['Warn', 'WARN'],
  ])('accepts the Powertools log level %s as %s', (level, expected) => {
    // Act
    const config = loadConfig({ ...BASE, POWERTOOLS_LOG_LEVEL: level });

    // Assess
    expect(config.logLevel).toBe(expected);
  });

  it.each(['verbose', 'WARNING', 'constructor', 'toString', '0'])(
    'rejects the Powertools log level %s by name',
    (level) => {
      // Act
      const load = () => loadConfig({ ...BASE, POWERTOOLS_LOG_LEVEL: level });

      // Assess
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(
        `POWERTOOLS_LOG_LEVEL is "${level}": expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT`,
      );
    },
  );

  it('checks LOG_LEVEL, which Powertools reads when POWERTOOLS_LOG_LEVEL is unset', () => {
    // Act
    const alone = () => loadConfig({ ...BASE, LOG_LEVEL: 'verbose' });
    const behind = () => loadConfig({ ...BASE, POWERTOOLS_LOG_LEVEL: 'WARN', LOG_LEVEL: 'verbose' });

    // Assess
    expect(alone).toThrow(
      'LOG_LEVEL is "verbose": expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT (read as the log level while POWERTOOLS_LOG_LEVEL is unset)',
    );
    expect(behind).not.toThrow();
  });

  it('returns a frozen object with frozen lists', () => {
    // Act
    const config = loadConfig(BASE);

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.algorithms)).toBe(true);
    expect(Object.isFrozen(config.readPrefixes)).toBe(true);
    expect(() => {
      (config as { bucket: string }).bucket = 'other';
    }).toThrow(TypeError);
  });
});

describe('read prefixes: {sub} must be a whole segment under a fixed folder', () => {
  it.each([
    'users/{sub}',
    'users/{sub}-x/',
    'a/{sub}b/',
    // Two users' folders would meet: sub "x" here is sub "ux" under users/{sub}/.
    'users/u{sub}/',
    'team-{sub}/',
    // Sub "internal" would read internal/.
    '{sub}/',
    '{sub}/files/',
  ])('rejects %s', (prefix) => {
    // Prepare
    const env = {
      SIGNET_BUCKET: 'signet-test',
      SIGNET_REGION: 'us-east-1',
      SIGNET_ISSUER: 'https://issuer.test',
      SIGNET_AUDIENCE: 'signet',
      SIGNET_JWKS_URL: 'https://issuer.test/jwks.json',
      SIGNET_READ_PREFIXES: prefix,
    };

    // Act + Assess
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });
});
