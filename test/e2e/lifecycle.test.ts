// End to end: the local stack as a process — what it writes and prints, `signet token`,
// signed URLs that expire, a clean SIGTERM, and a restart that keeps its state.
//
// Shared state: the tests of 'signet dev: what it writes and prints' and 'signed URLs expire'
// share one stack (started once, below) and its state folder. The first group runs one test at
// a time: the keys.json test breaks the shared keys file for a moment (and restores it before
// it ends); the two 'signed URLs expire' tests, which only read, run side by side.
// No test stops the shared stack or leaves its state changed, so they pass in any order
// (`--sequence.shuffle`). 'stop and restart' and 'a busy port' use stacks and folders of their own.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exists } from '../../infra/local/state.ts';
import { type RunningStack, signet, stackEnv, startStack } from './harness.ts';
import {
  ask,
  downloadPath,
  expectProblem,
  follow,
  parseDisposition,
  putObject,
  redirectTo,
  s3Client,
  sleep,
  VIAS,
} from './helpers.ts';

const KEY = 'public/lifecycle/kept.txt';
const BODY = 'uploaded before the restart';
/** Short-lived URLs, so that one can be seen expiring; 4 to 5 s left when issued, ample on a loaded machine. */
const TTL_SECONDS = 5;
const ENV = { SIGNET_URL_TTL_SECONDS: String(TTL_SECONDS), SIGNET_URL_STABILITY_SECONDS: '1' };

let stateDir: string;
let stack: RunningStack | undefined;
let s3: S3Client | undefined;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'signet-e2e-lifecycle-'));
  stack = await startStack({ stateDir, env: ENV });
  s3 = s3Client(stack.endpoints);
  await putObject(s3, stack.endpoints, KEY, BODY);
});

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

function running(): RunningStack {
  if (!stack) throw new Error('the stack is not running');
  return stack;
}

/**
 * Whether every process of group `pgid` has ended: `npm start`'s gateway runs under npm,
 * and must not outlive it. (A process that has exited holds no port; a port check could
 * meet another test's stack on a freed random port.)
 */
function groupGone(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Polls `check` every `everyMs` until it holds, for up to `timeoutMs`; returns whether it held. */
async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

const jwksKids = async (jwks: string) =>
  ((await (await fetch(jwks)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe.sequential('signet dev: what it writes and prints', () => {
  it('endpoints.json holds exactly the SPEC keys, all pointing at 127.0.0.1', async () => {
    // Act
    const endpoints = JSON.parse(await readFile(join(stateDir, 'endpoints.json'), 'utf8')) as Record<
      string,
      string
    >;

    // Assess
    expect(Object.keys(endpoints).sort()).toEqual(
      [
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
      ].sort(),
    );
    for (const name of ['edge', 's3', 'dynamodb', 'issuer', 'jwks']) {
      expect(new URL(endpoints[name] as string).hostname, name).toBe('127.0.0.1');
    }
    expect(endpoints.bucket).toBe('signet-local');
    expect(endpoints.jwks?.startsWith(endpoints.issuer as string)).toBe(true);
    expect(await jwksKids(endpoints.jwks as string)).toHaveLength(1);
  });

  it('prints a dev token and a curl line that work as printed', async () => {
    // Prepare
    const output = running().output();
    const token = /^TOKEN=(\S+)$/m.exec(output)?.[1];
    const curl = /^curl .*-H "Authorization: Bearer \$TOKEN" '([^']+)'$/m.exec(output)?.[1];

    // Act
    expect(token, output).toBeDefined();
    expect(curl, output).toBeDefined();
    const location = await redirectTo(
      running().endpoints,
      (curl as string).slice(running().endpoints.edge.length),
      token as string,
      'cdn',
    );
    const file = await follow(location);

    // Assess
    expect(decodeJwt(token as string)).toMatchObject({ sub: 'dev-user', scope: 'downloads:read' });
    expect((curl as string).startsWith(`${running().endpoints.edge}/d/`)).toBe(true);
    expect(file.status).toBe(200);
    expect(file.body.length).toBeGreaterThan(0);
  });

  it('the printed curl line, run by curl itself, saves the sample under its own name', async () => {
    // Prepare: the lines exactly as printed, in a fresh folder.
    const output = running().output();
    const tokenLine = /^TOKEN=\S+$/m.exec(output)?.[0];
    const curlLine = /^curl .*$/m.exec(output)?.[0];
    expect(tokenLine, output).toBeDefined();
    expect(curlLine, output).toBeDefined();
    const folder = await mkdtemp(join(tmpdir(), 'signet-e2e-curl-'));

    try {
      // Act
      const run = spawnSync('bash', ['-c', `set -e; ${tokenLine}; ${curlLine}`], {
        cwd: folder,
        encoding: 'utf8',
      });

      // Assess
      expect(run.status, run.stderr).toBe(0);
      const saved = await readdir(folder);
      expect(saved).toEqual(['Annual Report 2026.txt']);
      expect(await readFile(join(folder, 'Annual Report 2026.txt'), 'utf8')).toContain('Annual Report 2026');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it.each(VIAS)(
    'every sample downloads via=%s: its bytes, and its own name (non-ASCII and spaces too)',
    async (via) => {
      // Prepare
      const folder = join(import.meta.dirname, '../../samples');
      const files = (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) =>
        e.isFile(),
      );
      const token = await running().token();
      expect(files.map((e) => e.name)).toEqual(
        expect.arrayContaining(['Überblick – 報告.txt', 'Annual Report 2026.txt']),
      );

      for (const entry of files) {
        const file = join(entry.parentPath, entry.name);
        const key = relative(folder, file).split(sep).join('/');

        // Act
        const location = await redirectTo(running().endpoints, downloadPath(key, { via }), token, via);
        const res = await follow(location);

        // Assess
        expect(res.status, key).toBe(200);
        expect(res.body.equals(await readFile(file)), key).toBe(true);
        expect(parseDisposition(res.headers.get('content-disposition')).name, key).toBe(entry.name);
      }
    },
  );

  it('a broken keys.json does not take the stack down: the last good key group stays', async () => {
    // Prepare
    const file = join(stateDir, 'keys', 'keys.json');
    const good = await readFile(file, 'utf8');
    const token = await running().token();
    const printedBefore = running().output().length;
    const complaint = `signet dev: ignoring ${file}:`;

    try {
      // Act: a key entry whose PEM cannot be parsed; then /files/ requests (each checks the
      // file, and reads it again once it changed) until the stack says it ignores the file.
      await writeFile(
        file,
        JSON.stringify([{ name: 'bad', id: 'KBAD', status: 'trusted', publicKey: 'nope' }]),
      );
      const complained = await eventually(async () => {
        if (running().output().slice(printedBefore).includes(complaint)) return true;
        await fetch(`${running().endpoints.edge}/files/public/welcome.txt`).catch(() => undefined);
        return false;
      });
      const location = await redirectTo(
        running().endpoints,
        downloadPath('public/welcome.txt'),
        token,
        'cdn',
      );
      const file200 = await follow(location);

      // Assess
      expect(complained, running().output()).toBe(true);
      expect(file200.status).toBe(200);
    } finally {
      await writeFile(file, good);
    }
  });

  it('a key retired in keys.json is refused from the very next /files/ request, and trusted again once put back', async () => {
    // Prepare
    const file = join(stateDir, 'keys', 'keys.json');
    const good = await readFile(file, 'utf8');
    const location = await redirectTo(
      running().endpoints,
      downloadPath('public/welcome.txt'),
      await running().token(),
      'cdn',
    );
    const before = await follow(location);
    const retired = (JSON.parse(good) as { status: string }[]).map((entry) => ({
      ...entry,
      status: 'retired',
    }));

    try {
      // Act: no wait between the change and the request.
      await writeFile(file, JSON.stringify(retired));
      const afterRetiring = await follow(location);
      await writeFile(file, good);
      const afterRestoring = await follow(location);

      // Assess
      expect(before.status).toBe(200);
      expect(afterRetiring.status).toBe(403);
      expect(afterRestoring.status).toBe(200);
    } finally {
      await writeFile(file, good);
    }
  });

  it('`signet token --sub x --scope ...` prints a JWT from the dev issuer that the stack accepts', async () => {
    // Act
    const out = await signet(
      ['token', '--sub', 'x', '--scope', 'downloads:read downloads:all', '--ttl', '120'],
      {
        SIGNET_STATE_DIR: stateDir,
      },
    );

    // Assess
    const token = out.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      sub: 'x',
      scope: 'downloads:read downloads:all',
      iss: running().endpoints.issuer,
      aud: running().endpoints.audience,
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(120);
    const res = await ask(running().endpoints, downloadPath('users/dev-user/invoice-0001.txt'), { token });
    expect(res.status).toBe(302);
  });
});

describe('signed URLs expire', () => {
  // Both vias at once: each waits out its own URL's TTL, and they share nothing else.
  it.concurrent.for(VIAS)(
    'via=%s: the URL works at once and answers 403 once its TTL is over',
    async (via, { expect }) => {
      // Prepare: signed for a window of 1 s, so the URL has more than TTL - 1 s left when issued.
      const token = await running().token();
      const askedAt = Date.now();
      const res = await ask(running().endpoints, downloadPath(KEY, { via }), {
        token,
        headers: { accept: 'application/json' },
      });
      const answeredAt = Date.now();
      const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };
      const expiresAtMs = Date.parse(expiresAt);

      // Act: at once, then a little after the expiry (past the checks' one-second granularity).
      const fresh = await follow(url);
      const freshAt = Date.now();
      await sleep(expiresAtMs - Date.now() + 1100);
      const stale = await follow(url);

      // Assess
      expect(expiresAtMs).toBeGreaterThan(askedAt + (TTL_SECONDS - 1) * 1000);
      expect(expiresAtMs).toBeLessThanOrEqual(answeredAt + TTL_SECONDS * 1000);
      expect(freshAt, 'the fresh download must happen before the expiry').toBeLessThan(expiresAtMs);
      expect(fresh.status).toBe(200);
      expect(fresh.body.toString('utf8')).toBe(BODY);
      expect(parseDisposition(fresh.headers.get('content-disposition')).name).toBe('kept.txt');
      expect(stale.status).toBe(403);
      expect(stale.body.toString('utf8')).not.toContain(BODY);
      if (via === 'cdn') expectProblem(403, stale.headers.get('content-type'), stale.body.toString('utf8'));
      else expect(stale.body.toString('utf8')).toMatch(/<Code>AccessDenied<\/Code>/);
    },
  );
});

describe('stop and restart', () => {
  // A stack and state folder of its own, so stopping it ends no other test's stack.
  let ownDir: string | undefined;
  let first: RunningStack | undefined;
  let restarted: RunningStack | undefined;
  let ownS3: S3Client | undefined;

  afterAll(async () => {
    ownS3?.destroy();
    // Stops whatever is still running, even when the test failed half-way.
    await Promise.all([first?.stop(), restarted?.stop()]);
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
  });

  it('SIGTERM stops the stack (its process exits 0, its ports with it); a restart keeps the state', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-restart-'));
    ownDir = dir;
    first = await startStack({ stateDir: dir, env: ENV });
    const before = first;
    ownS3 = s3Client(before.endpoints);
    await putObject(ownS3, before.endpoints, KEY, BODY);
    const keyGroup = await readFile(join(dir, 'keys', 'keys.json'), 'utf8');
    const credentials = await readFile(join(dir, 'credentials.json'), 'utf8');
    const issuerKey = await readFile(join(dir, 'issuer', 'private.jwk.json'), 'utf8');
    const kids = await jwksKids(before.endpoints.jwks);

    // Act
    first = undefined;
    const code = await before.stop();

    // Assess: stopped cleanly, nothing listening any more.
    expect(code).toBe(0);
    expect(before.output()).toContain('SIGTERM: stopping Signet');
    // A first start makes the issuer key without a notice: there were no tokens before it.
    expect(before.output()).not.toContain('issuer key was missing');

    // Act: start again on the same state folder.
    restarted = await startStack({ stateDir: dir, env: ENV });
    const after = restarted;

    // Assess: the same keys and credentials, the object still there.
    expect(await readFile(join(dir, 'keys', 'keys.json'), 'utf8')).toBe(keyGroup);
    expect(await readFile(join(dir, 'credentials.json'), 'utf8')).toBe(credentials);
    expect(await readFile(join(dir, 'issuer', 'private.jwk.json'), 'utf8')).toBe(issuerKey);
    expect(after.endpoints.accessKeyId).toBe(before.endpoints.accessKeyId);
    expect(await jwksKids(after.endpoints.jwks)).toEqual(kids);
    for (const via of VIAS) {
      const location = await redirectTo(
        after.endpoints,
        downloadPath(KEY, { via }),
        await after.token(),
        via,
      );
      const file = await follow(location);
      expect(file.status, via).toBe(200);
      expect(file.body.toString('utf8')).toBe(BODY);
    }
    const stopped = await after.stop();
    restarted = undefined;
    expect(after.output()).not.toContain('issuer key was missing');
    expect(stopped).toBe(0);
  });
});

describe('Ctrl-C', () => {
  let stack: RunningStack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it.each([
    ['SIGINT', 'Ctrl-C'],
    ['SIGHUP', 'its terminal closed'],
  ] as const)('%s (%s) stops the stack: its process exits 0, its ports with it', async (signal, _why) => {
    // Prepare
    stack = await startStack();
    const started = stack;

    // Act
    stack = undefined;
    const code = await started.stop(signal);

    // Assess
    expect(code).toBe(0);
    expect(started.output()).toContain(`${signal}: stopping Signet`);
  });
});

describe('signet dev run by npx, with a stale SIGNET_PARENT_PID in its environment', () => {
  it('keeps running: only its own parent counts', async () => {
    // Prepare: as `npx signet dev` runs it (npm's lifecycle variable set), from a shell that
    // kept an old value.
    const stack = await startStack({ env: { SIGNET_PARENT_PID: '424242', npm_lifecycle_event: 'npx' } });

    try {
      // Act: past several of its parent checks (every 500 ms).
      await sleep(1_500);

      // Assess
      expect(stack.output()).not.toContain('npm exited');
      expect((await fetch(stack.endpoints.jwks)).status).toBe(200);
    } finally {
      expect(await stack.stop()).toBe(0);
    }
  });
});

describe('a signal while signet dev starts', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s: it stops cleanly once started (exit 0), leaving no socket folder behind',
    async (signal) => {
      // Prepare: its own TMPDIR, where the local S3 makes its socket's private folder.
      const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-early-signal-'));
      const temp = join(dir, 'tmp');
      const state = join(dir, 'state');
      await mkdir(temp);
      const child = spawn(process.execPath, [join(import.meta.dirname, '../../bin/signet.js'), 'dev'], {
        cwd: join(import.meta.dirname, '../..'),
        env: { ...stackEnv(state), TMPDIR: temp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (chunk) => {
        output += chunk;
      });
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((done) =>
        child.once('exit', (code, how) => done([code, how])),
      );

      try {
        // The start is under way: it holds the state folder's lock, and is not yet running.
        expect(await eventually(() => exists(join(state, 'lock')), 20_000)).toBe(true);
        expect(output).not.toContain('Signet is running locally.');

        // Act
        child.kill(signal);
        const [code, how] = await exited;

        // Assess
        expect([code, how]).toEqual([0, null]);
        expect(output).toContain(`${signal}: stopping Signet`);
        expect(output).not.toContain('Signet is running locally.');
        // tsx keeps its cache there too; the local S3's folders are named signet-s3-*.
        expect((await readdir(temp)).filter((name) => name.startsWith('signet-'))).toEqual([]);
      } finally {
        child.kill('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe('npm start', () => {
  let stack: RunningStack | undefined;
  let group: number | undefined;
  afterAll(async () => {
    await stack?.stop();
    // A gateway npm left running when the test failed: ended with its process group.
    if (group !== undefined) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // The group is gone: nothing was left.
      }
    }
  });

  it('SIGTERM to npm stops the gateway too: the script execs node, so the signal reaches it', async () => {
    // Prepare
    stack = await startStack({ npmStart: true });
    const started = stack;
    group = started.pid;

    // Act
    stack = undefined;
    const code = await started.stop();

    // Assess
    expect(code).toBe(0);
    expect(started.output()).toContain('SIGTERM: stopping Signet');
    expect(await eventually(() => groupGone(started.pid))).toBe(true);
  });

  it('Ctrl-C in a terminal (SIGINT to npm and the gateway, and passed on by npm) stops it cleanly', async () => {
    // Prepare
    stack = await startStack({ npmStart: true });
    const started = stack;
    group = started.pid;

    // Act: the gateway gets the signal twice, which is not a second Ctrl-C.
    stack = undefined;
    const code = await started.stop('SIGINT', { group: true });

    // Assess
    expect(code).toBe(0);
    expect(started.output()).toContain('SIGINT: stopping Signet');
    expect(started.output()).not.toContain('exiting now');
    expect(await eventually(() => groupGone(started.pid))).toBe(true);
  });
});

describe('npm start, npm killed outright', () => {
  let group: number | undefined;
  afterAll(() => {
    // Whatever the test left: npm's whole process group.
    if (group === undefined) return;
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // The group is gone: nothing was left.
    }
  });

  it('SIGKILL to npm alone (a force-stop): the gateway notices its parent is gone and stops', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-npm-killed-'));
    try {
      const started = await startStack({ npmStart: true, stateDir: dir });
      group = started.pid;

      // Act: npm dies without passing anything on.
      process.kill(started.pid as number, 'SIGKILL');

      // Assess: the gateway stops by itself, cleanly, and frees the state folder's lock.
      expect(await eventually(() => groupGone(group))).toBe(true);
      expect(started.output()).toContain('npm exited: stopping Signet');
      const again = await startStack({ stateDir: dir });
      await again.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['as soon as the gateway process is there, before it can have read its parent', false],
    ['once the gateway holds the state lock', true],
  ])(
    'SIGKILL to npm while the gateway is still starting (%s): it stops as soon as it has started',
    async (_, locked) => {
      // Prepare: npm start, as startStack does, but npm is killed before the stack is up.
      const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-npm-killed-early-'));
      const child = spawn('npm', ['start', '--silent'], {
        detached: true,
        cwd: join(import.meta.dirname, '../..'),
        env: stackEnv(dir),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      group = child.pid;
      let output = '';
      child.stdout?.on('data', (chunk) => {
        output += chunk;
      });
      const gatewayRunning = () =>
        spawnSync('ps', ['-o', 'args=', '-g', String(child.pid)], { encoding: 'utf8' }).stdout.includes(
          'bin/signet.js dev',
        );

      try {
        // The gateway has begun: its process is there (polled fast), or it holds the state lock.
        const begun = locked
          ? await eventually(async () => gatewayRunning() && (await exists(join(dir, 'lock'))), 20_000)
          : await eventually(gatewayRunning, 20_000, 5);
        expect(begun).toBe(true);

        // Act: npm dies while the gateway starts.
        process.kill(child.pid as number, 'SIGKILL');

        // Assess
        expect(await eventually(() => groupGone(group), 25_000)).toBe(true);
        expect(output).toContain('npm exited: stopping Signet');
        // No banner, token and curl line for a terminal no one reads any more.
        expect(output).not.toContain('Signet is running locally.');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe('signet dev: a busy port', () => {
  it.each(['PORT', 'S3_PORT', 'ISSUER_PORT', 'DYNAMODB_PORT'])(
    '%s in use → exit 1 with one clear line, no stack trace',
    async (name) => {
      // Prepare: hold a port, and point the setting at it (the others pick free ports).
      const holder = createServer();
      await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
      const busy = (holder.address() as AddressInfo).port;
      const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-busy-'));
      const env = { ...stackEnv(dir), [name]: String(busy) };

      try {
        // Act
        const run = spawnSync(process.execPath, ['bin/signet.js', 'dev'], {
          env,
          encoding: 'utf8',
          timeout: 30_000,
        });

        // Assess
        expect(run.status, run.stderr).toBe(1);
        expect(run.stderr).toContain(`signet dev: cannot start: port ${busy} on 127.0.0.1 is in use`);
        expect(run.stderr).toContain(`choose another with ${name} `);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      } finally {
        holder.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('signet dev: a bad setting', () => {
  it.each([
    ['SIGNET_URL_TTL_SECONDS', 'abc'],
    ['SIGNET_READ_PREFIXES', 'public'],
    ['SIGNET_DEFAULT_VIA', 'ftp'],
    ['SIGNET_CLOCK_TOLERANCE_SECONDS', '-5'],
  ])('%s=%j → exit 1 naming the variable and the value, before anything starts', async (name, value) => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-config-'));

    try {
      // Act
      const run = spawnSync(process.execPath, ['bin/signet.js', 'dev'], {
        env: { ...stackEnv(dir), [name]: value },
        encoding: 'utf8',
        timeout: 30_000,
      });

      // Assess
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain(`signet dev: cannot start: ${name} is "${value}"`);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).not.toContain('Signet is running locally.');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('signet dev: a port setting read as every setting is', () => {
  it('PORT=" 0 " is trimmed: a free port', async () => {
    // Act
    const stack = await startStack({ env: { PORT: ' 0 ' } });
    const code = await stack.stop();

    // Assess
    expect(new URL(stack.endpoints.edge).port).not.toBe('8080');
    expect(code).toBe(0);
  });
});

describe('signet dev: a port setting that is not a port number', () => {
  it.each(['0x1f90', '1e3', '80 80', '-1', '65536', '1.5', 'abc'])(
    'PORT=%j → exit 1 naming the variable, before anything starts',
    async (value) => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'signet-e2e-port-'));

      try {
        // Act
        const run = spawnSync(process.execPath, ['bin/signet.js', 'dev'], {
          env: { ...stackEnv(dir), PORT: value },
          encoding: 'utf8',
          timeout: 30_000,
        });

        // Assess
        expect(run.status, run.stderr).toBe(1);
        expect(run.stderr).toContain(`PORT is "${value}": expected a port number from 0 to 65535`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
