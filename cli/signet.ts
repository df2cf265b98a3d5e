import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startDev } from '../infra/local/dev.ts';
import { mintToken } from '../infra/local/issuer.ts';
import { type Endpoints, paths, readJson, stateDir } from '../infra/local/state.ts';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new InvalidArgumentError(`${name} is "${raw}": expected a port number from 0 to 65535`);
  }
  return value;
}

function positiveInteger(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidArgumentError('expected a whole number of seconds');
  return value;
}

const program = new Command()
  .name('signet')
  .description('Signet: JWT-authorized download redirects to short-lived signed URLs')
  .showHelpAfterError();

program
  .command('dev')
  .description('run the whole gateway locally on 127.0.0.1 until Ctrl-C (state under .signet/)')
  .action(async () => {
    const dir = stateDir();
    let stack: Awaited<ReturnType<typeof startDev>>;
    try {
      stack = await startDev({
        stateDir: dir,
        edgePort: port('PORT', 8080),
        s3Port: port('S3_PORT', 9000),
        issuerPort: port('ISSUER_PORT', 8081),
        dynamodbPort: port('DYNAMODB_PORT', 8000),
        samplesDir: resolve('samples'),
      });
    } catch (error) {
      const { code, port: busy } = error as { code?: string; port?: number };
      const why =
        code === 'EADDRINUSE'
          ? `port ${busy} on 127.0.0.1 is in use (is another \`npm start\` running?); ` +
            'choose others with PORT, S3_PORT, ISSUER_PORT, DYNAMODB_PORT (0 picks a free one)'
          : error instanceof Error
            ? error.message
            : String(error);
      process.stderr.write(`signet dev: cannot start: ${why}\n`);
      process.exit(1);
    }
    const { endpoints } = stack;
    const token = await mintToken(dir, {
      issuer: endpoints.issuer,
      audience: endpoints.audience,
      sub: 'dev-user',
      scope: 'downloads:read',
      ttlSeconds: 3600,
    });
    const sample =
      stack.sampleKeys.find((k) => k.includes(' ')) ?? stack.sampleKeys[0] ?? 'public/welcome.txt';
    const path = sample.split('/').map(encodeURIComponent).join('/');
    const lines = [
      'Signet is running locally.',
      `  edge (CloudFront stand-in)  ${endpoints.edge}`,
      `  S3 (SigV4-checked)          ${endpoints.s3}   bucket ${endpoints.bucket}`,
      `  DynamoDB                    ${endpoints.dynamodb}`,
      `  dev issuer JWKS             ${endpoints.jwks}`,
      `  state                       ${dir} (endpoints.json, keys, objects)`,
      `  sample keys                 ${stack.sampleKeys.join(', ')}`,
      '',
      'A dev token (sub dev-user, scope downloads:read, 1 hour; more with `npx signet token`):',
      '',
      `TOKEN=${token}`,
      '',
      'Download a sample (follows the 302 and saves it under its name):',
      '',
      `curl -fLOJ -H "Authorization: Bearer $TOKEN" '${endpoints.edge}/d/${path}'`,
      '',
      'Ctrl-C stops it; state is kept for the next start.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping Signet...\n`);
      stack.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('token')
  .description('print a JWT from the local dev issuer (run `npm start` once first)')
  .option('--sub <sub>', 'the subject', 'dev-user')
  .option('--scope <scopes>', 'space-separated scopes', 'downloads:read')
  .option('--ttl <seconds>', 'lifetime in seconds', positiveInteger, 3600)
  .action(async (options: { sub: string; scope: string; ttl: number }) => {
    const dir = stateDir();
    const endpoints = await readJson<Endpoints>(paths(dir).endpoints);
    if (!endpoints) {
      process.stderr.write(
        `signet: no ${paths(dir).endpoints}: start the local stack once with \`npm start\`\n`,
      );
      process.exit(1);
    }
    const token = await mintToken(dir, {
      issuer: endpoints.issuer,
      audience: endpoints.audience,
      sub: options.sub,
      scope: options.scope,
      ttlSeconds: options.ttl,
    });
    process.stdout.write(`${token}\n`);
  });

await program.parseAsync(process.argv);
