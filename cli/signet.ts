import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startDev } from '../infra/local/dev.ts';
import { DEV_TOKEN, mintToken } from '../infra/local/issuer.ts';
import { type Endpoints, endpointsShape, paths, REMAKE, readJson, stateDir } from '../infra/local/state.ts';

function port(name: string, fallback: number): number {
  // Trimmed, and empty is unset, as every setting is (loadConfig).
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  // Digits only: Number() would also take "0x1f90" and "1e3".
  const value = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 65535)) {
    throw new InvalidArgumentError(`${name} is "${raw}": expected a port number from 0 to 65535`);
  }
  return value;
}

/** How often a gateway started by npm checks that npm is still its parent. */
const PARENT_CHECK_MS = 500;

const PORT_VARIABLES = ['PORT', 'S3_PORT', 'ISSUER_PORT', 'DYNAMODB_PORT'] as const;
const PORT_DEFAULTS: Record<(typeof PORT_VARIABLES)[number], number> = {
  PORT: 8080,
  S3_PORT: 9000,
  ISSUER_PORT: 8081,
  DYNAMODB_PORT: 8000,
};

/** The variable(s) that chose a busy port. */
function portVariable(busy: number | undefined): string {
  const named = PORT_VARIABLES.filter((name) => port(name, PORT_DEFAULTS[name]) === busy);
  return named.length > 0 ? named.join(' or ') : PORT_VARIABLES.join(', ');
}

/** Longest dev token lifetime `signet token` mints: one day. */
const MAX_TTL_SECONDS = 86_400;
/** A stop signal repeated within this many ms is the same Ctrl-C, delivered twice. */
const REPEATED_SIGNAL_MS = 500;

function ttlSeconds(raw: string): number {
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_TTL_SECONDS)) {
    throw new InvalidArgumentError(`expected a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`);
  }
  return value;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function subject(raw: string): string {
  if (raw.trim() === '' || CONTROL.test(raw)) {
    throw new InvalidArgumentError('expected a non-empty subject without control characters');
  }
  return raw;
}

function scopes(raw: string): string {
  if (CONTROL.test(raw)) throw new InvalidArgumentError('expected scopes without control characters');
  return raw;
}

/** A process id: digits, not 0. */
function processId(raw: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw new InvalidArgumentError('expected a process id');
  return Number(raw);
}

/** Ends the command with one line on stderr: no stack trace for a user's mistake or a bad file. */
function die(command: string, error: unknown): never {
  process.stderr.write(`signet ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// Errors are one line: commander's own names the option and why; `--help` is there for more.
const program = new Command()
  .name('signet')
  .description('Signet: JWT-authorized download redirects to short-lived signed URLs');

program
  .command('dev')
  .description('run the whole gateway locally on 127.0.0.1 until Ctrl-C (state under .signet/)')
  // `npm start` names npm, the parent to outlive, from its own shell before node starts.
  .addOption(new Option('--parent-pid <pid>').hideHelp().argParser(processId))
  .action(async (options: { parentPid?: number }) => {
    // Named by `npm start`, or taken as early as bin/signet.js could, before the start, which
    // takes seconds: npm may be killed while it runs. Run some other way: its parent now.
    const parent = options.parentPid ?? (Number(process.env.SIGNET_PARENT_PID) || process.ppid);
    const dir = stateDir();
    let stack: Awaited<ReturnType<typeof startDev>> | undefined;
    let stoppingSince: number | undefined;
    const stopped = (code: number) => () => process.exit(code);
    const stop = (signal: string) => {
      if (stoppingSince !== undefined) {
        // Under `npm start`, one Ctrl-C arrives twice: from the terminal, and passed on by
        // npm. Only a second Ctrl-C, a moment later, means: do not wait for a shutdown that hangs.
        if (performance.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
        process.stdout.write(`${signal} again: exiting now\n`);
        process.exit(1);
      }
      // A monotonic clock: a wall clock stepped back would swallow every later Ctrl-C.
      stoppingSince = performance.now();
      process.stdout.write(`\n${signal}: stopping Signet...\n`);
      // Still starting: the start ends first, then the stack stops (below), all of it.
      stack?.close().then(stopped(0), stopped(1));
    };
    // From the first moment: a signal with no handler ends the process at once, and one
    // during the start (seconds) would leave the local S3's socket folder and a stack half
    // made. Whoever reads "running" may send one at once, too.
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // A closed terminal: stop as on Ctrl-C, rather than die and leave the socket folder.
    process.on('SIGHUP', () => stop('SIGHUP'));
    try {
      stack = await startDev({
        stateDir: dir,
        edgePort: port('PORT', PORT_DEFAULTS.PORT),
        s3Port: port('S3_PORT', PORT_DEFAULTS.S3_PORT),
        issuerPort: port('ISSUER_PORT', PORT_DEFAULTS.ISSUER_PORT),
        dynamodbPort: port('DYNAMODB_PORT', PORT_DEFAULTS.DYNAMODB_PORT),
        // The package's own samples, wherever the command runs from.
        samplesDir: resolve(import.meta.dirname, '../samples'),
      });
    } catch (error) {
      // Asked to stop while starting: Ctrl-C goes to the whole process group, and ends
      // esbuild's service too, which ends the start. That is the stop asked for; any other
      // failure is told as such.
      if (stoppingSince !== undefined && /service was stopped/i.test(String((error as Error)?.message))) {
        process.stdout.write('stopped during the start\n');
        process.exit(0);
      }
      const { code, port: busy } = error as { code?: string; port?: number };
      const why =
        code === 'EADDRINUSE'
          ? `port ${busy} on 127.0.0.1 is in use (is another \`npm start\` running, or two ports the same?); ` +
            `choose another with ${portVariable(busy)} (0 picks a free one)`
          : error instanceof Error
            ? error.message
            : String(error);
      die('dev', `cannot start: ${why}`);
    }
    const started = stack;
    if (stoppingSince !== undefined) {
      started.close().then(stopped(0), stopped(1));
      return;
    }
    const { endpoints } = started;
    const token = await mintToken(dir, { issuer: endpoints.issuer, audience: endpoints.audience }).catch(
      async (error: unknown) => {
        await started.close();
        die('dev', `cannot start: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    // A signal while the token was made: the stack is stopping already.
    if (stoppingSince !== undefined) return;
    const sample =
      started.sampleKeys.find((k) => k.includes(' ')) ?? started.sampleKeys[0] ?? 'public/welcome.txt';
    const path = sample.split('/').map(encodeURIComponent).join('/');
    const lines = [
      'Signet is running locally.',
      `  edge (CloudFront stand-in)  ${endpoints.edge}`,
      `  S3 (SigV4-checked)          ${endpoints.s3}   bucket ${endpoints.bucket}`,
      `  DynamoDB                    ${endpoints.dynamodb}`,
      `  dev issuer JWKS             ${endpoints.jwks}`,
      `  state                       ${dir} (endpoints.json, keys, objects)`,
      `  sample keys                 ${started.sampleKeys.join(', ')}`,
      '',
      `A dev token (sub ${DEV_TOKEN.sub}, scope ${DEV_TOKEN.scope}, ${DEV_TOKEN.ttlSeconds / 3600} hour; more with \`npx signet token\`):`,
      '',
      `TOKEN=${token}`,
      '',
      'Download a sample (follows the 302 and saves it under its name):',
      '',
      `curl -fLOJ -H "Authorization: Bearer $TOKEN" '${endpoints.edge}/d/${path}'`,
      '',
      'Ctrl-C stops it; state is kept for the next start.',
    ];
    // Under npm (`npm start`), npm is the parent and passes SIGINT and SIGTERM on; killed
    // outright (a force-stop's SIGKILL), it cannot, and the gateway would be left holding the
    // ports and the state lock. A new parent means npm is gone: stop as on SIGTERM. (An
    // orphan is adopted by pid 1 or a subreaper: a new parent. npm itself may be pid 1, as a
    // container's command.)
    const underNpm = process.env.npm_lifecycle_event !== undefined;
    const npmGone = () => process.ppid !== parent;
    // Gone while the stack started: stopped now, with no banner for a terminal no one reads.
    if (underNpm && npmGone()) {
      stop('npm exited');
      return;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const notice of started.notices) process.stderr.write(`signet dev: ${notice}\n`);
    if (underNpm) {
      const watch = setInterval(() => {
        if (stoppingSince !== undefined) clearInterval(watch);
        else if (npmGone()) {
          clearInterval(watch);
          stop('npm exited');
        }
      }, PARENT_CHECK_MS);
      watch.unref();
    }
  });

program
  .command('token')
  .description('print a JWT from the local dev issuer (run `npm start` once first)')
  .option('--sub <sub>', 'the subject', subject, DEV_TOKEN.sub)
  .option('--scope <scopes>', 'space-separated scopes ("" for none, to see a 403)', scopes, DEV_TOKEN.scope)
  .option(
    '--ttl <seconds>',
    `lifetime in seconds, at most ${MAX_TTL_SECONDS}`,
    ttlSeconds,
    DEV_TOKEN.ttlSeconds,
  )
  .action(async (options: { sub: string; scope: string; ttl: number }) => {
    const dir = stateDir();
    try {
      const endpoints = await readJson<Endpoints>(paths(dir).endpoints, endpointsShape, REMAKE);
      if (!endpoints)
        die('token', `no ${paths(dir).endpoints}: start the local stack once with \`npm start\``);
      const token = await mintToken(dir, {
        issuer: endpoints.issuer,
        audience: endpoints.audience,
        sub: options.sub,
        scope: options.scope,
        ttlSeconds: options.ttl,
      });
      process.stdout.write(`${token}\n`);
    } catch (error) {
      die('token', error);
    }
  });

await program.parseAsync(process.argv);
