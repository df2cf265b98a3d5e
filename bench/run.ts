/**
 * `npm run bench`: every figure measured in this one run on this machine, printed and
 * written to bench-results/ (git-ignored). Nothing here is asserted by tests.
 */
import './quiet-sdk.ts';
import { spawn } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, sign as rsaSign } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { authorizerFromEnv } from '../api/adapters/authorizer.ts';
import { downloadFromEnv } from '../api/adapters/download.ts';
import { loadConfig } from '../api/core/config.ts';
import { buildLambdas } from '../scripts/build.ts';
import { startStack } from '../test/e2e/harness.ts';

const ROOT = resolve(import.meta.dirname, '..');

const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

interface Cost {
  /** Wall-clock µs per call: what a caller waits. */
  readonly wall: number;
  /** CPU µs per call, every thread of the process (WebCrypto's pool included): what it costs. */
  readonly cpu: number;
}

/** µs per call: warm up, then the median of `rounds` timed batches of `n` calls. */
async function perCall(fn: () => unknown, n = 2000, rounds = 5): Promise<number> {
  const [result] = Object.values<Cost>(await perCallEach({ fn }, n, rounds));
  return result?.wall ?? Number.NaN;
}

/**
 * µs per call of several functions, measured side by side: every round times one batch of
 * each in turn, so warm-up, garbage collection and a busy neighbour weigh on all alike.
 * Each figure is the median batch.
 */
async function perCallEach<K extends string>(
  fns: Record<K, () => unknown>,
  n = 2000,
  rounds = 9,
): Promise<Record<K, Cost>> {
  const names = Object.keys(fns) as K[];
  for (const name of names) for (let i = 0; i < n; i++) await fns[name]();
  const wall = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  const cpu = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      // Untimed: a turn of the event loop, so a Ctrl-C is handled between batches (a batch
      // of synchronous signing alone never lets it run).
      await new Promise((done) => setImmediate(done));
      const fn = fns[name];
      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await fn();
      wall[name].push(Number(process.hrtime.bigint() - start) / 1000 / n);
      const used = process.cpuUsage(cpuStart);
      cpu[name].push((used.user + used.system) / n);
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, { wall: median(wall[name]), cpu: median(cpu[name]) }]),
  ) as Record<K, Cost>;
}

/**
 * Wall µs of `fn` alone when every call follows a call of `before` (not timed): the median
 * of `rounds` batches of `n` pairs.
 */
async function perCallAfter(before: () => unknown, fn: () => unknown, n = 2000, rounds = 9): Promise<number> {
  for (let i = 0; i < n; i++) {
    await before();
    await fn();
  }
  const batches: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let timed = 0n;
    for (let i = 0; i < n; i++) {
      await before();
      const start = process.hrtime.bigint();
      await fn();
      timed += process.hrtime.bigint() - start;
    }
    batches.push(Number(timed) / 1000 / n);
  }
  return median(batches);
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/**
 * What an interrupted run (Ctrl-C, SIGTERM, SIGHUP) must still undo: the folders holding
 * private keys, the processes it started. A `finally` does not run when a signal ends the
 * process, so each section lends its cleanup here while it runs (`cleanedUp`).
 */
const undo = new Set<() => unknown>();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, async () => {
    // A second Ctrl-C waits too: the cleanup is bounded (a stack that will not stop is
    // killed after 10 s), and ending now would leave what it has yet to remove.
    if (stopping) {
      console.error(`${signal}: still stopping, removing what the run made`);
      return;
    }
    stopping = true;
    console.error(`\n${signal}: the run stops here, and nothing is written`);
    // What the stopping breaks (a load whose server went) must not end the process first.
    process.on('uncaughtException', () => {});
    process.on('unhandledRejection', () => {});
    // Last lent, first undone: a stack stops before its state folder goes.
    for (const step of [...undo].reverse()) {
      try {
        await step();
      } catch {
        // The next step still runs.
      }
    }
    process.exit(128 + constants.signals[signal]);
  });
}

/** `fn`, then `cleanup` however it ends: an error, or a signal that ends the run. */
async function cleanedUp<T>(cleanup: () => unknown, fn: () => Promise<T>): Promise<T> {
  // Once only, whether the signal or the end of `fn` comes first: a second SIGTERM would
  // make a stack stop at once, without its clean stop.
  let done: Promise<unknown> | undefined;
  const step = () => {
    done ??= Promise.resolve().then(cleanup);
    return done;
  };
  undo.add(step);
  try {
    return await fn();
  } finally {
    // Lent until done: a signal now waits for this very cleanup before the process ends.
    await step();
    undo.delete(step);
  }
}

/** A new folder under the system's temporary one, removed however the run ends. */
async function inScratchDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return cleanedUp(
    () => rm(dir, { recursive: true, force: true }),
    () => fn(dir),
  );
}

// ---------------------------------------------------------------- 1. handlers in process
async function handlerBench() {
  const { privateKey: jwtKey, publicKey: jwtPublic } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(jwtPublic)), kid: 'bench', alg: 'RS256' };
  const jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((done) => jwksServer.listen(0, '127.0.0.1', done));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

  try {
    // The folder holds a private key: removed however the measurement ends.
    return await inScratchDir('signet-bench-', async (dir) => {
      const { privateKey: cfKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pemFile = join(dir, 'cf.pem');
      await writeFile(pemFile, cfKey.export({ type: 'pkcs8', format: 'pem' }));
      const env = {
        SIGNET_BUCKET: 'signet-bench',
        SIGNET_REGION: 'us-east-1',
        SIGNET_DISTRIBUTION_DOMAIN: 'd111111abcdef8.cloudfront.net',
        SIGNET_CF_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
        SIGNET_CF_PRIVATE_KEY_FILE: pemFile,
        SIGNET_ISSUER: 'https://issuer.bench',
        SIGNET_AUDIENCE: 'signet',
        SIGNET_JWKS_URL: jwksUrl,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      };
      const config = loadConfig(env);
      // The floor's own JWKS set, as jose's documentation builds one.
      const keys = createRemoteJWKSet(new URL(jwksUrl));
      // Both Lambdas as they are built on a cold start (`authorizerFromEnv`, `downloadFromEnv`), with
      // temporary credentials as a Lambda role has them: the session token is about 1 KB of
      // base64 (`+`, `/` and `=` included), and rides in every presigned URL.
      const credentials = {
        accessKeyId: 'ASIABENCHBENCHBENCH0',
        secretAccessKey: 'bench-secret',
        sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(756).toString('base64')}`,
      };
      const authorizer = authorizerFromEnv(env);
      const download = await downloadFromEnv(env, {
        credentials,
        // The object store stubbed at its port: the bench measures Signet, not the network.
        store: { head: async () => ({ size: 1024, contentType: 'application/pdf', filename: undefined }) },
      });
      // The floors' own signers: the SigV4 signer the presigner wraps, and the same private key.
      const s3 = new S3Client({ region: config.region, credentials });
      const privateKey = createPrivateKey(cfKey.export({ type: 'pkcs8', format: 'pem' }));
      const token = await new SignJWT({ scope: 'downloads:read' })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setSubject('bench-user')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(jwtKey);
      // As a REST API hands the key on: percent-encoded, as the request wrote it.
      const key = 'public/reports/Annual%20Report%202026.pdf';
      const methodArn = `arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/d/${key}`;
      const authEvent = {
        type: 'REQUEST',
        methodArn,
        headers: { Authorization: `Bearer ${token}` },
      } as unknown as APIGatewayRequestAuthorizerEvent;
      const routeEvent = (via: string) =>
        ({
          httpMethod: 'GET',
          headers: {},
          pathParameters: { proxy: key },
          queryStringParameters: { via },
          multiValueQueryStringParameters: { via: [via] },
          requestContext: { authorizer: {} },
        }) as unknown as APIGatewayProxyEvent;

      async function request(via: string) {
        const policy = await authorizer(authEvent);
        const event = routeEvent(via);
        event.requestContext.authorizer = { ...policy.context, principalId: policy.principalId };
        const result = await download(event);
        if (result.statusCode !== 302)
          throw new Error(`bench request answered ${result.statusCode}: ${result.body}`);
      }

      const sigv4 = new SignatureV4({
        service: 's3',
        region: 'us-east-1',
        credentials,
        sha256: s3.config.sha256,
        uriEscapePath: false,
      });
      const policy = Buffer.from(
        '{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/files/x","Condition":{"DateLessThan":{"AWS:EpochTime":1700000000}}}]}',
      );
      const authorized = routeEvent('s3');
      const authorizedCdn = routeEvent('cdn');
      authorizedCdn.requestContext.authorizer = {
        sub: 'bench-user',
        scope: 'downloads:read',
        principalId: 'bench-user',
      };
      authorized.requestContext.authorizer = {
        sub: 'bench-user',
        scope: 'downloads:read',
        principalId: 'bench-user',
      };
      const verifyOnly = () =>
        jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: ['RS256', 'ES256'],
        });
      const presignOnly = () =>
        sigv4.presign(
          new HttpRequest({
            method: 'GET',
            protocol: 'https:',
            hostname: 'signet-bench.s3.us-east-1.amazonaws.com',
            path: '/public/reports/Annual%20Report%202026.pdf',
            query: { 'response-content-disposition': 'attachment; filename="Annual Report 2026.pdf"' },
            headers: { host: 'signet-bench.s3.us-east-1.amazonaws.com' },
          }),
          { expiresIn: 300 },
        );
      // Every timed call must be the real thing: a 302, an Allow policy. A route answering 400
      // would otherwise pass for a fast one.
      const allowed = await authorizer(authEvent);
      if (allowed.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('bench token not allowed');
      for (const event of [authorized, authorizedCdn]) {
        const answer = await download(event);
        if (answer.statusCode !== 302)
          throw new Error(`bench route answered ${answer.statusCode}: ${answer.body}`);
      }

      const figures = await perCallEach({
        // The issue's measure: one request, the authorizer then the route, in one process.
        handlerS3: () => request('s3'),
        handlerCdn: () => request('cdn'),
        verify: () => verifyOnly(),
        presign: () => presignOnly(),
        rsa: () => rsaSign('sha1', policy, privateKey),
        // Each function alone, as each runs on AWS: two Lambda functions, each in its own
        // execution environment, handling one request after another.
        authorizer: () => authorizer(authEvent),
        routeS3: () => download(authorized),
        routeCdn: () => download(authorizedCdn),
        // The bare floors alternating as a request runs them, no Signet code in between. Two
        // libraries taking turns on one thread lose their warm caches, so this costs more than
        // the sum of the floors measured alone.
        verifyThenPresign: async () => {
          await verifyOnly();
          await presignOnly();
        },
        verifyThenRsa: async () => {
          await verifyOnly();
          rsaSign('sha1', policy, privateKey);
        },
      });
      // Where the alternation cost comes from: the presign timed on its own, right after a
      // wait on libuv's thread pool with no crypto at all (a file stat), and right after a
      // jose verify. The thread stalls while it waits, and whatever runs next runs cold.
      const wake = {
        presignAfterImmediate: await perCallAfter(
          () => new Promise((done) => setImmediate(done)),
          presignOnly,
        ),
        presignAfterPoolWait: await perCallAfter(() => stat(dir), presignOnly),
        presignAfterVerify: await perCallAfter(verifyOnly, presignOnly),
      };
      const { handlerS3, handlerCdn, verify, presign, rsa } = figures;
      const { authorizer: auth, routeS3, routeCdn, verifyThenPresign, verifyThenRsa } = figures;
      const both = (f: (cost: keyof Cost) => number) => ({ wall: f('wall'), cpu: f('cpu') });

      s3.destroy();
      return {
        unit: 'µs per request: wall clock (what the caller waits) and CPU (every thread of the process)',
        handler: {
          s3: both((c) => round(handlerS3[c])),
          cdn: both((c) => round(handlerCdn[c])),
        },
        floors: {
          jwtVerify: both((c) => round(verify[c])),
          sigv4Presign: both((c) => round(presign[c])),
          rsaSha1Sign: both((c) => round(rsa[c])),
        },
        ratio: {
          s3: both((c) => round(handlerS3[c] / (verify[c] + presign[c]), 2)),
          cdn: both((c) => round(handlerCdn[c] / (verify[c] + rsa[c]), 2)),
        },
        target: 'ratio = handler (authorizer then route, one process) / (jwtVerify + sign, each alone) ≤ 1.5',
        // The ratios the targets are judged on, unrounded: 1.504 is not within 1.5.
        judged: {
          s3: handlerS3.wall / (verify.wall + presign.wall),
          cdn: handlerCdn.wall / (verify.wall + rsa.wall),
        },
        perFunction: {
          note: 'each function measured alone, as deployed; sumOfParts is authorizer + route',
          authorizer: both((c) => round(auth[c])),
          routeS3: both((c) => round(routeS3[c])),
          routeCdn: both((c) => round(routeCdn[c])),
          sumOfParts: {
            s3: both((c) => round(auth[c] + routeS3[c])),
            cdn: both((c) => round(auth[c] + routeCdn[c])),
          },
          ratio: {
            s3: both((c) => round((auth[c] + routeS3[c]) / (verify[c] + presign[c]), 2)),
            cdn: both((c) => round((auth[c] + routeCdn[c]) / (verify[c] + rsa[c]), 2)),
          },
        },
        floorsAlternating: {
          note: 'the bare floors run as a request runs them (verify, then sign), no Signet code',
          verifyThenPresign: both((c) => round(verifyThenPresign[c])),
          verifyThenRsaSign: both((c) => round(verifyThenRsa[c])),
          ratio: {
            s3: both((c) => round(handlerS3[c] / verifyThenPresign[c], 2)),
            cdn: both((c) => round(handlerCdn[c] / verifyThenRsa[c], 2)),
          },
        },
        wakePenalty: {
          note: 'wall µs of one presign alone, right after: a setImmediate; a thread-pool wait with no crypto (fs.stat); a jose verify',
          afterSetImmediate: round(wake.presignAfterImmediate),
          afterThreadPoolWait: round(wake.presignAfterPoolWait),
          afterJwtVerify: round(wake.presignAfterVerify),
        },
      };
    });
  } finally {
    jwksServer.close();
  }
}

// ---------------------------------------------------------------- 2. through the edge
interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  fiveXx: number;
  not302: number;
}

/** A bounded closed-loop load: `concurrency` keep-alive clients for `seconds`, 127.0.0.1 only. */
async function load(url: string, headers: Record<string, string>, seconds: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const deadline = performance.now() + seconds * 1000;
  const once = () =>
    new Promise<void>((done, fail) => {
      const start = performance.now();
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - start);
          const key = String(res.statusCode);
          statuses[key] = (statuses[key] ?? 0) + 1;
          done();
        });
      });
      req.on('error', fail);
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0, 2);
  return {
    requests: latencies.length,
    rps: Math.round(latencies.length / elapsed),
    p50Ms: pick(0.5),
    p99Ms: pick(0.99),
    statuses,
    fiveXx: Object.entries(statuses)
      .filter(([s]) => s.startsWith('5'))
      .reduce((sum, [, n]) => sum + n, 0),
    /** Answers other than the expected 302: a run of 401s must not pass for throughput. */
    not302: Object.entries(statuses)
      .filter(([s]) => s !== '302')
      .reduce((sum, [, n]) => sum + n, 0),
  } satisfies LoadResult;
}

async function edgeBench() {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  // The constant-302 baseline runs in its own process, like the stack.
  const baseline = spawn(
    process.execPath,
    [
      '-e',
      "require('node:http').createServer((q,s)=>{s.writeHead(302,{Location:'https://example.invalid/x'});s.end()}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // Every load below is measured after a warm-up of its own: the first seconds after a start
  // are JIT warm-up, not the path.
  const warmUp = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
  const constant = await cleanedUp(
    () => baseline.kill(),
    async () => {
      const baselinePort = await new Promise<string>((done) =>
        baseline.stdout?.once('data', (d) => done(String(d).trim())),
      );
      const baselineUrl = `http://127.0.0.1:${baselinePort}/d/x`;
      await load(baselineUrl, {}, warmUp, concurrency);
      return load(baselineUrl, {}, seconds, concurrency);
    },
  );

  // The state folder holds private keys: removed however the run ends, after the stack stops.
  return inScratchDir('signet-e2e-', async (stateDir) => {
    // One cleanup for the stack's whole life: a signal during the start gives the start up
    // (the harness stops the child); once started, or if the start ends all the same, the
    // stack is stopped. Either way before its folder goes.
    const giveUp = new AbortController();
    const starting = startStack({ stateDir, signal: giveUp.signal });
    return cleanedUp(
      async () => {
        giveUp.abort();
        await (await starting.catch(() => undefined))?.stop();
      },
      async () => {
        const stack = await starting;
        const token = await stack.token({ scope: 'downloads:read' });
        const url = (via: string) => `${stack.endpoints.edge}/d/public/welcome.txt?via=${via}`;
        const auth = { Authorization: `Bearer ${token}` };
        await load(url('s3'), auth, warmUp, concurrency);
        await load(url('cdn'), auth, warmUp, concurrency);
        const viaS3 = await load(url('s3'), auth, seconds, concurrency);
        const viaCdn = await load(url('cdn'), auth, seconds, concurrency);
        // Every /d/ request HEADs the object: what one HeadObject costs against the local S3
        // stand-in (s3rver behind the SigV4 check) bounds the edge's throughput.
        const { endpoints } = stack;
        const s3 = new S3Client({
          region: endpoints.region,
          endpoint: endpoints.s3,
          forcePathStyle: true,
          credentials: { accessKeyId: endpoints.accessKeyId, secretAccessKey: endpoints.secretAccessKey },
        });
        const headMs =
          (await perCall(
            () => s3.send(new HeadObjectCommand({ Bucket: endpoints.bucket, Key: 'public/welcome.txt' })),
            100,
            3,
          )) / 1000;
        s3.destroy();
        return {
          seconds,
          concurrency,
          localS3HeadObjectMs: round(headMs, 2),
          constant302: constant,
          edge: { s3: viaS3, cdn: viaCdn },
          ratioRps: { s3: round(viaS3.rps / constant.rps, 3), cdn: round(viaCdn.rps / constant.rps, 3) },
          target: 'zero 5xx',
        };
      },
    );
  });
}

// ---------------------------------------------------------------- 3. bundles
async function wallMs(args: string[], env: NodeJS.ProcessEnv, runs: number): Promise<number> {
  const samples: number[] = [];
  // Spawned, not spawnSync: the event loop stays free to handle a Ctrl-C between runs.
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    const status = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (code) => done(code));
    });
    if (status !== 0) throw new Error(`node ${args.join(' ')} exited ${status}`);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function bundleBench() {
  // The folder holds a private key: removed however the run ends.
  return inScratchDir('signet-bundles-', async (dir) => {
    const infos = await buildLambdas(dir);
    // With a distribution configured, so the download import includes reading the key.
    const keyFile = join(dir, 'cf.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const env = {
      SIGNET_DISTRIBUTION_DOMAIN: 'd111111abcdef8.cloudfront.net',
      SIGNET_CF_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
      SIGNET_CF_PRIVATE_KEY_FILE: keyFile,
      SIGNET_BUCKET: 'signet-bench',
      SIGNET_REGION: 'us-east-1',
      SIGNET_ISSUER: 'https://issuer.bench',
      SIGNET_AUDIENCE: 'signet',
      SIGNET_JWKS_URL: 'https://issuer.bench/jwks.json',
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      NODE_NO_WARNINGS: '1',
    };
    const runs = Number(process.env.BENCH_IMPORT_RUNS ?? 15);
    const empty = await wallMs(['-e', ''], env, runs);
    const bundles = [];
    for (const info of infos) {
      const imported = await wallMs(
        ['--input-type=module', '-e', `await import(${JSON.stringify(info.file)})`],
        env,
        runs,
      );
      bundles.push({
        name: info.name,
        gzipKiB: round(info.gzipBytes / 1024),
        rawKiB: round(info.bytes / 1024),
        importMs: round(imported - empty),
      });
    }
    return {
      emptyNodeStartMs: round(empty),
      bundles,
      targets: { authorizerGzipKiB: 40, downloadGzipKiB: 200 },
    };
  });
}

// ---------------------------------------------------------------- run
// `npm run bench -- handlers` (or bundles, edge) runs only the named sections.
const SECTIONS = ['handlers', 'bundles', 'edge'];
const only = new Set(process.argv.slice(2));
for (const name of only) {
  if (!SECTIONS.includes(name)) {
    console.error(`unknown section "${name}"; the sections are: ${SECTIONS.join(', ')}`);
    process.exit(2);
  }
}
console.log('Signet bench: every figure from this run, on this machine.\n');
const wanted = (section: string) => only.size === 0 || only.has(section);

/** Each target of the issue, judged on this run's figures alone. */
interface Verdict {
  readonly target: string;
  readonly measured: number;
  readonly limit: number;
  readonly met: boolean;
}
const verdicts: Verdict[] = [];
/** `measured` as shown; `exact`, when it was rounded, is what is compared. */
const judge = (target: string, measured: number, limit: number, exact = measured) =>
  verdicts.push({ target, measured, limit, met: exact <= limit });

if (wanted('handlers')) {
  const handlers = await handlerBench();
  results.handlers = handlers;
  console.log('1. authorizer + download handler in process (object store stubbed):');
  console.log(JSON.stringify(handlers, null, 2));
  judge(
    'handler via=s3 / (jwtVerify + SigV4 presign), wall',
    round(handlers.judged.s3, 3),
    1.5,
    handlers.judged.s3,
  );
  judge(
    'handler via=cdn / (jwtVerify + RSA-SHA1 sign), wall',
    round(handlers.judged.cdn, 3),
    1.5,
    handlers.judged.cdn,
  );
}
if (wanted('bundles')) {
  const bundles = await bundleBench();
  results.bundles = bundles;
  console.log('\n2. Lambda bundles (gzip size; import time over an empty node start):');
  console.log(JSON.stringify(bundles, null, 2));
  const limits: Record<string, number> = {
    authorizer: bundles.targets.authorizerGzipKiB,
    download: bundles.targets.downloadGzipKiB,
  };
  for (const { name, gzipKiB } of bundles.bundles) {
    const limit = limits[name];
    if (limit !== undefined) judge(`${name} bundle, gzip KiB`, gzipKiB, limit);
  }
}
if (wanted('edge')) {
  const edge = await edgeBench();
  results.edge = edge;
  console.log('\n3. through the local edge, GET /d/* answered 302, beside a constant-302 node:http server:');
  console.log(JSON.stringify(edge, null, 2));
  judge('5xx answers through the edge under load', edge.edge.s3.fiveXx + edge.edge.cdn.fiveXx, 0);
}
results.targets = verdicts;
console.log('\nTargets, judged on this run alone:');
for (const { target, measured, limit, met } of verdicts) {
  console.log(`  ${met ? 'met   ' : 'MISSED'}  ${target}: ${measured} (at most ${limit})`);
}

const outDir = join(ROOT, 'bench-results');
await mkdir(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const json = `${JSON.stringify({ at: new Date().toISOString(), sections: SECTIONS.filter(wanted), ...results }, null, 2)}\n`;
// latest.json is always a whole run; a run of some sections is written under their names.
const complete = SECTIONS.every(wanted);
const file = complete ? `bench-${stamp}.json` : `bench-${stamp}-${[...only].join('-')}.json`;
await writeFile(join(outDir, file), json);
if (complete) await writeFile(join(outDir, 'latest.json'), json);
console.log(`\nwritten to bench-results/${file}${complete ? ' and bench-results/latest.json' : ''}`);
