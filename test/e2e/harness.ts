import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mintToken } from '../../infra/local/issuer.ts';
import type { Endpoints } from '../../infra/local/state.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface RunningStack {
  readonly endpoints: Endpoints;
  readonly stateDir: string;
  /** The child's process id; with `npmStart`, also its process group's. */
  readonly pid: number | undefined;
  /** Everything the stack printed so far. */
  readonly output: () => string;
  /** A token from the stack's dev issuer (the code behind `signet token`). */
  token(options?: { sub?: string; scope?: string; ttl?: number }): Promise<string>;
  /**
   * Sends `signal` (default SIGTERM; SIGINT is Ctrl-C) and waits for the exit code. With
   * `group` (and `npmStart`), to the whole process group, as a terminal sends Ctrl-C.
   */
  stop(signal?: NodeJS.Signals, options?: { group?: boolean }): Promise<number | null>;
}

/** How long `stop` waits for the stack to end before it kills it. */
const STOP_LIMIT_MS = 10_000;

/** Whether the child has ended, by an exit or by a signal. */
const ended = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** The child's exit code once it ends (null when a signal ended it). */
function run(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (ended(child)) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });
}

/** Runs a `signet` CLI command to completion and returns its stdout. */
export async function signet(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/signet.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const code = await run(child);
  if (code !== 0) throw new Error(`signet ${args.join(' ')} exited ${code}: ${err}`);
  return out;
}

/** The environment of a `signet` process with its own state folder and every port random. */
export function stackEnv(stateDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SIGNET_STATE_DIR: stateDir,
    PORT: '0',
    S3_PORT: '0',
    ISSUER_PORT: '0',
    DYNAMODB_PORT: '0',
  };
}

/**
 * Starts the real local stack (`signet dev`, or `npm start`) as a child process on random
 * ports with its own state folder, and waits until it says it is running.
 */
export async function startStack(
  options: {
    stateDir?: string;
    env?: NodeJS.ProcessEnv;
    npmStart?: boolean;
    /** Aborted: the start is given up, and the stack stopped as on SIGTERM. */
    signal?: AbortSignal;
  } = {},
): Promise<RunningStack> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'signet-e2e-')));
  // `npmStart`: as a user starts it, through `npm start` (then npm is the child signalled).
  const [command, args] = options.npmStart
    ? ['npm', ['start', '--silent']]
    : [process.execPath, [join(ROOT, 'bin/signet.js'), 'dev']];
  const child = spawn(command, args, {
    // npm's children in a process group of their own, so a test can end them all.
    detached: options.npmStart === true,
    cwd: ROOT,
    env: { ...stackEnv(stateDir), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  // Whatever goes wrong, nothing is left running: npm's whole group, or the one child.
  const killHard = () => {
    if (ended(child)) return;
    if (options.npmStart && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
        return;
      } catch {
        // The group is gone already: the child alone below.
      }
    }
    child.kill('SIGKILL');
  };
  /** Sends `signal`, to npm's whole group with `group`. */
  const send = (signal: NodeJS.Signals, group: boolean) => {
    if (ended(child)) return;
    try {
      if (group && options.npmStart && child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // npm's group is gone already: its child alone.
      child.kill(signal);
    }
  };
  /**
   * Sends `signal` and waits for the exit; a stack that ignores it is killed past
   * STOP_LIMIT_MS, so nothing is left running ('timeout' says so). With `insist`, for a
   * start that may hang, the signal is sent again halfway: a second signal makes
   * `signet dev` exit at once, removing what it made, where SIGKILL would leave it.
   */
  const end = async (
    signal: NodeJS.Signals,
    group: boolean,
    insist = false,
  ): Promise<number | null | 'timeout'> => {
    send(signal, group);
    const timers: NodeJS.Timeout[] = [];
    if (insist) timers.push(setTimeout(() => send(signal, group), STOP_LIMIT_MS / 2));
    const code = await Promise.race([
      run(child),
      new Promise<'timeout'>((done) => {
        timers.push(setTimeout(() => done('timeout'), STOP_LIMIT_MS));
      }),
    ]);
    for (const timer of timers) clearTimeout(timer);
    if (code === 'timeout') killHard();
    await run(child);
    return code;
  };
  const started = Date.now();
  let endpoints: Endpoints;
  try {
    while (!output.includes('Signet is running locally.')) {
      if (options.signal?.aborted) throw new Error('the start was given up');
      if (ended(child)) {
        throw new Error(`signet dev ended (${child.exitCode ?? child.signalCode}):\n${output}`);
      }
      if (Date.now() - started > 45_000) throw new Error(`signet dev did not start in 45 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    endpoints = JSON.parse(await readFile(join(stateDir, 'endpoints.json'), 'utf8')) as Endpoints;
  } catch (error) {
    // Stopped as a user would, so it removes what it made (its S3 socket folder among them).
    await end('SIGTERM', true, true);
    // A state folder of its own holds private keys: never left behind.
    if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoints,
    stateDir,
    pid: child.pid,
    output: () => output,
    token: ({ sub = 'dev-user', scope = 'downloads:read', ttl = 600 } = {}) =>
      mintToken(stateDir, {
        issuer: endpoints.issuer,
        audience: endpoints.audience,
        sub,
        scope,
        ttlSeconds: ttl,
      }),
    async stop(signal = 'SIGTERM', { group = false } = {}) {
      // A stack that ignores the signal is killed, so a failing test leaves nothing running.
      const code = await end(signal, group);
      if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
      if (code === 'timeout')
        throw new Error(`signet dev did not stop within ${STOP_LIMIT_MS} ms of ${signal}`);
      return code;
    },
  };
}
