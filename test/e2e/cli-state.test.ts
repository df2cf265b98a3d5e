// End to end: `signet token` and `signet dev` meet bad options and broken state files with
// one clear line and exit code 1: never a stack trace, never a file silently replaced.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureIssuerKey } from '../../infra/local/issuer.ts';
import { createKey } from '../../infra/local/key-group.ts';
import { paths } from '../../infra/local/state.ts';
import { type RunningStack, stackEnv, startStack } from './harness.ts';
import { downloadPath, follow, redirectTo } from './helpers.ts';

const ENDPOINTS = {
  edge: 'http://127.0.0.1:1',
  s3: 'http://127.0.0.1:2',
  bucket: 'signet-local',
  region: 'us-east-1',
  accessKeyId: 'AKIALOCAL',
  secretAccessKey: 'secret',
  dynamodb: 'http://127.0.0.1:3',
  issuer: 'http://127.0.0.1:4',
  audience: 'signet',
  jwks: 'http://127.0.0.1:4/.well-known/jwks.json',
};

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-state-'));
  dirs.push(dir);
  return dir;
}

async function write(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}

/** Runs `signet ...args` with `dir` as its state folder, random ports, to completion. */
function signet(dir: string, ...args: string[]) {
  return signetWith(stackEnv(dir), ...args);
}

function signetWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/signet.js', ...args], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function expectOneLineError(run: ReturnType<typeof signet>, ...needles: string[]): void {
  expect(run.status, run.stderr).toBe(1);
  for (const needle of needles) expect(run.stderr).toContain(needle);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  // One line, but for the line breaks of a refused value that the message quotes back.
  const quoted = needles.join('').split('\n').length - 1;
  expect(run.stderr.trim().split('\n')).toHaveLength(1 + quoted);
  expect(run.stdout).toBe('');
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('signet token: options', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await freshDir();
    await write(paths(dir).endpoints, JSON.stringify(ENDPOINTS));
    await ensureIssuerKey(dir);
  });

  it('mints a token with the options given', () => {
    // Act
    const run = signet(dir, 'token', '--sub', 'carol', '--scope', '', '--ttl', '60');

    // Assess
    expect(run.status, run.stderr).toBe(0);
    const claims = decodeJwt(run.stdout.trim());
    expect(claims).toMatchObject({ sub: 'carol', scope: '', iss: ENDPOINTS.issuer, aud: 'signet' });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(60);
  });

  it.each(['0', '-1', '1.5', '1e20', '0x10', 'soon', '86401', ''])('refuses --ttl %j', (ttl) => {
    // Act
    const run = signet(dir, 'token', '--ttl', ttl);

    // Assess
    expectOneLineError(run, '--ttl', 'expected a whole number of seconds from 1 to 86400');
  });

  it.each(['', '   ', 'a\nb'])('refuses --sub %j', (sub) => {
    // Act
    const run = signet(dir, 'token', '--sub', sub);

    // Assess
    expectOneLineError(run, `--sub <sub>' argument '${sub}'`, 'expected a non-empty subject');
  });

  it.each(['a\nb', 'downloads:read\tx'])('refuses --scope %j', (scope) => {
    // Act
    const run = signet(dir, 'token', '--scope', scope);

    // Assess
    expectOneLineError(
      run,
      `--scope <scopes>' argument '${scope}'`,
      'expected scopes without control characters',
    );
  });
});

describe('signet token: state files', () => {
  it('without a state folder: says to start the stack once', async () => {
    // Act
    const run = signet(await freshDir(), 'token');

    // Assess
    expectOneLineError(run, 'endpoints.json', 'npm start');
  });

  it.each([
    ['not JSON', '{bad', 'not valid JSON'],
    ['an empty object', '{}', 'expected a string in edge'],
    ['an array', '[]', 'expected a JSON object'],
  ])('endpoints.json holding %s: names the file and the fault', async (_, text, fault) => {
    // Prepare
    const dir = await freshDir();
    await write(paths(dir).endpoints, text);

    // Act
    const run = signet(dir, 'token');

    // Assess
    expectOneLineError(run, paths(dir).endpoints, fault, 'delete it');
  });

  it('no issuer key: says to start the stack, and makes none (its JWKS would not hold it)', async () => {
    // Prepare
    const dir = await freshDir();
    await write(paths(dir).endpoints, JSON.stringify(ENDPOINTS));

    // Act
    const run = signet(dir, 'token');

    // Assess
    expectOneLineError(run, paths(dir).issuerKey, 'npm start');
    await expect(stat(paths(dir).issuerKey)).rejects.toThrow(/ENOENT/);
  });

  it.each([
    ['an empty object', '{}', 'expected {kid'],
    ['a public key only', '{"kid":"k","privateJwk":{"kty":"RSA","n":"x","e":"AQAB"}}', 'privateJwk'],
    [
      'a key that does not load',
      '{"kid":"k","privateJwk":{"kty":"RSA","n":"x","e":"AQAB","d":"y"},"publicJwk":{"kty":"RSA","n":"x","e":"AQAB"}}',
      'does not load',
    ],
  ])('an issuer key holding %s: names the file and the fault', async (_, text, fault) => {
    // Prepare
    const dir = await freshDir();
    await write(paths(dir).endpoints, JSON.stringify(ENDPOINTS));
    await write(paths(dir).issuerKey, text);

    // Act
    const run = signet(dir, 'token');

    // Assess
    expectOneLineError(run, paths(dir).issuerKey, fault);
  });
});

describe('signet dev: broken state files', () => {
  const entry = async (dir: string, overrides: Record<string, unknown> = {}) => ({
    ...(await createKey(dir, 'local-1', 'active')),
    ...overrides,
  });

  it.each([
    ['keys.json', 'an object', async () => '{}', 'expected a JSON array of keys'],
    ['keys.json', 'a null entry', async () => '[null]', 'entry 0: "name"'],
    [
      'keys.json',
      'a broken public key',
      async (dir: string) => JSON.stringify([await entry(dir, { publicKey: 'not a pem' })]),
      'entry 0 (local-1): "publicKey" is not a PEM public key',
    ],
    [
      'keys.json',
      'an unknown status',
      async (dir: string) => JSON.stringify([await entry(dir, { status: 'enabled' })]),
      '"status" must be one of active, trusted, retired',
    ],
    [
      'keys.json',
      'no active key',
      async (dir: string) => JSON.stringify([await entry(dir, { status: 'trusted' })]),
      'exactly one active key, it has 0',
    ],
    ['credentials.json', 'an empty object', async () => '{}', 'expected a string in accessKeyId'],
    ['issuer key', 'not JSON', async () => 'garbage', 'not valid JSON'],
  ])(
    '%s holding %s: exit 1, one line naming the file, the file left as it was',
    async (file, _, make, fault) => {
      // Prepare
      const dir = await freshDir();
      const path =
        file === 'keys.json'
          ? paths(dir).keyGroup
          : file === 'credentials.json'
            ? paths(dir).credentials
            : paths(dir).issuerKey;
      const text = await make(dir);
      await write(path, text);

      // Act
      const run = signet(dir, 'dev');

      // Assess
      expectOneLineError(run, 'signet dev: cannot start:', path, fault);
      expect(await readFile(path, 'utf8')).toBe(text);
    },
  );
});

describe('signet dev: the key group and its private keys', () => {
  /** A state folder after one start: keys.json with local-1 active, and local-1.pem. */
  async function startedOnce(): Promise<{ dir: string; pem: string; text: string }> {
    const dir = await freshDir();
    const entry = await createKey(dir, 'local-1', 'active');
    await write(paths(dir).keyGroup, JSON.stringify([entry]));
    const pem = paths(dir).privateKey('local-1');
    return { dir, pem, text: await readFile(pem, 'utf8') };
  }

  it('keys.json deleted but local-1.pem still there: refuses to replace the key', async () => {
    // Prepare
    const { dir, pem, text } = await startedOnce();
    await rm(paths(dir).keyGroup);

    // Act
    const run = signet(dir, 'dev');

    // Assess
    expectOneLineError(run, pem, 'a private key is already there', 'delete the keys folder');
    expect(await readFile(pem, 'utf8')).toBe(text);
  });

  it('the active private key replaced by another: refuses to start (every via=cdn URL would be refused)', async () => {
    // Prepare: a valid RSA 2048 key, but not the one keys.json lists.
    const { dir, pem } = await startedOnce();
    const elsewhere = await freshDir();
    await createKey(elsewhere, 'local-1', 'active');
    await write(pem, await readFile(paths(elsewhere).privateKey('local-1'), 'utf8'));

    // Act
    const run = signet(dir, 'dev');

    // Assess
    expectOneLineError(run, pem, 'does not match the public key keys.json lists');
  });

  it('the active private key missing: says which key keys.json expects', async () => {
    // Prepare
    const { dir, pem } = await startedOnce();
    await rm(pem);

    // Act
    const run = signet(dir, 'dev');

    // Assess
    expectOneLineError(run, pem, 'missing, yet keys.json lists it as the active key', 'local-1');
  });
});

describe('signet dev: the dev issuer key deleted after a start', () => {
  let stack: RunningStack | undefined;

  afterAll(async () => {
    await stack?.stop();
  });

  it('is made again, and says that tokens minted before are refused', async () => {
    // Prepare: a folder that has started before (its endpoints.json is there), no issuer key.
    const dir = await freshDir();
    await write(paths(dir).endpoints, JSON.stringify(ENDPOINTS));

    // Act
    stack = await startStack({ stateDir: dir });

    // Assess
    const running = stack;
    await expect
      .poll(() => running.output())
      .toContain(
        `signet dev: the dev issuer key was missing, so a new one was made (${paths(dir).issuerKey})`,
      );
    expect(running.output()).toContain('tokens minted before now are refused with 401');
    expect((await stat(paths(dir).issuerKey)).isFile()).toBe(true);
  });
});

describe('signet dev: state that cannot be read or is in use', () => {
  it('keys.json that is a folder: says so, and does not advise deleting a key', async () => {
    // Prepare
    const dir = await freshDir();
    await mkdir(paths(dir).keyGroup, { recursive: true });

    // Act
    const run = signet(dir, 'dev');

    // Assess
    expectOneLineError(run, paths(dir).keyGroup, 'cannot be read (EISDIR)', 'it is a folder');
  });

  it('SIGNET_STATE_DIR naming a file: points at the variable', async () => {
    // Prepare
    const file = join(await freshDir(), 'not-a-folder');
    await write(file, 'x');

    // Act
    const run = signet(file, 'dev');

    // Assess
    expectOneLineError(run, file, 'cannot be used as the state folder (EEXIST)', 'check SIGNET_STATE_DIR');
  });

  it.each([
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['POWERTOOLS_LOG_LEVEL', { POWERTOOLS_LOG_LEVEL: 'verbose', LOG_LEVEL: 'DEBUG' }],
  ])('a bad %s: refused at start, as on Lambda', async (name, levels) => {
    // Prepare
    const { POWERTOOLS_LOG_LEVEL: _unused, ...env } = stackEnv(await freshDir());

    // Act
    const run = signetWith({ ...env, ...levels }, 'dev');

    // Assess
    expectOneLineError(run, `${name} is "`, 'expected one of TRACE, DEBUG');
  });

  it('DynamoDB data that is corrupt: one line at start, not a crash on the first request', async () => {
    // Prepare: a first start makes the LevelDB folder; then its CURRENT file is spoiled.
    const dir = await freshDir();
    const first = await startStack({ stateDir: dir });
    await first.stop();
    await writeFile(join(paths(dir).dynamodb, 'CURRENT'), 'garbage');

    // Act
    const run = signet(dir, 'dev');

    // Assess
    expectOneLineError(run, paths(dir).dynamodb, 'the DynamoDB data cannot be opened');
  });

  it('a second `signet dev` on a state folder in use: refused, the first one unharmed', async () => {
    // Prepare
    const dir = await freshDir();
    const first = await startStack({ stateDir: dir });

    try {
      // Act
      const run = signet(dir, 'dev');
      const stillServing = await fetch(`${first.endpoints.edge}/d/public/welcome.txt`, {
        headers: { authorization: `Bearer ${await first.token()}` },
        redirect: 'manual',
      });

      // Assess
      expectOneLineError(run, dir, 'in use by another `signet dev`', 'SIGNET_STATE_DIR');
      expect(stillServing.status).toBe(302);
    } finally {
      await first.stop();
    }
  });

  it('two `signet dev` started at once on a fresh folder: one runs, with keys its edge trusts', async () => {
    // Prepare
    const dir = await freshDir();

    // Act: both race to make the credentials and the first key pair.
    const starts = await Promise.allSettled([startStack({ stateDir: dir }), startStack({ stateDir: dir })]);
    const running = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
    const refused = starts.flatMap((start) => (start.status === 'rejected' ? [String(start.reason)] : []));

    try {
      // Assess: the one running signs with the key its own edge checks against.
      expect(running).toHaveLength(1);
      expect(refused[0]).toContain('in use by another `signet dev`');
      const stack = running[0] as RunningStack;
      const location = await redirectTo(
        stack.endpoints,
        downloadPath('public/welcome.txt'),
        await stack.token(),
        'cdn',
      );
      expect((await follow(location)).status).toBe(200);
    } finally {
      for (const stack of running) await stack.stop();
    }
  });
});
