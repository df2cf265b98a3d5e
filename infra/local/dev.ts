import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { contentType } from 'mime-types';
import { authorizerFromEnv } from '../../api/adapters/authorizer.ts';
import { downloadFromEnv } from '../../api/adapters/download.ts';
import { buildEdgeFunctions } from '../../edge/build.ts';
import { API_ROUTES, type RouteLambda } from '../api-routes.ts';
import { type LocalRestApi, LocalRestApi as RestApi } from './api-gateway.ts';
import { startDynamo } from './dynamo.ts';
import { startEdge } from './edge.ts';
import { loadEdgeFunction } from './edge-runtime.ts';
import { closeServer } from './http.ts';
import { startIssuer } from './issuer.ts';
import { ensureKeyGroup, readKeyGroup, trustedKeys } from './key-group.ts';
import { startLocalS3 } from './s3.ts';
import {
  type Endpoints,
  ensureCredentials,
  exists,
  lockStateFolder,
  paths,
  StateError,
  writeJson,
} from './state.ts';

export const LOCAL_BUCKET = 'signet-local';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_AUDIENCE = 'signet';

export interface DevOptions {
  /** The state folder (`.signet`). */
  readonly stateDir: string;
  /** Edge (CloudFront stand-in) port; 0 for random. `signet dev` passes `PORT`, default 8080. */
  readonly edgePort: number;
  /** S3 port; 0 for random. `signet dev` passes `S3_PORT`, default 9000. */
  readonly s3Port: number;
  /** Dev issuer (JWKS) port; 0 for random. `signet dev` passes `ISSUER_PORT`, default 8081. */
  readonly issuerPort: number;
  /** DynamoDB-compatible server port; 0 for random. `signet dev` passes `DYNAMODB_PORT`, default 8000. */
  readonly dynamodbPort: number;
  /** Folder whose files are uploaded on start, keyed by their relative path. */
  readonly samplesDir: string;
  /** Where the handlers' own settings are read (`SIGNET_URL_TTL_SECONDS`, ...); default `process.env`, never changed. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface DevStack {
  readonly endpoints: Endpoints;
  readonly sampleKeys: readonly string[];
  /** What changed in the state folder that a user should know about, one line each. */
  readonly notices: readonly string[];
  close(): Promise<void>;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * `signet dev`: the whole gateway on 127.0.0.1 — local S3 (SigV4-checked), a DynamoDB
 * stand-in, the dev issuer, the REST API stand-in running the real handlers, and the edge
 * running the real CloudFront Functions — with state kept under `stateDir`.
 */
export async function startDev(options: DevOptions): Promise<DevStack> {
  const env = options.env ?? process.env;
  const dir = options.stateDir;
  // Every file under the samples folder is uploaded on start: keys and credentials too.
  const inSamples = relative(resolve(options.samplesDir), resolve(dir));
  if (inSamples === '' || !(inSamples.startsWith('..') || isAbsolute(inSamples))) {
    throw new StateError(
      resolve(dir),
      'is inside the samples folder, whose files are uploaded on every start (its keys with them)',
      'set SIGNET_STATE_DIR to a folder outside it',
    );
  }
  // First of all: a second start on this folder stops here, before it reads or makes a key.
  const closers: (() => Promise<void>)[] = [await lockStateFolder(dir)];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  const notices: string[] = [];

  try {
    const credentials = await ensureCredentials(dir);
    const { entries: keyGroup, active } = await ensureKeyGroup(dir);
    // endpoints.json is written on every start: present means this folder has started before.
    const startedBefore = await exists(paths(dir).endpoints);
    const s3 = await startLocalS3({
      port: options.s3Port,
      directory: paths(dir).s3,
      credentials,
      region: LOCAL_REGION,
      buckets: [LOCAL_BUCKET],
    });
    closers.push(() => s3.close());
    const dynamo = await startDynamo({ port: options.dynamodbPort, directory: paths(dir).dynamodb });
    closers.push(() => dynamo.close());
    const issuer = await startIssuer(dir, options.issuerPort);
    closers.push(() => closeServer(issuer.server));
    if (issuer.keyCreated && startedBefore) {
      notices.push(
        `the dev issuer key was missing, so a new one was made (${paths(dir).issuerKey}): tokens minted before now are refused with 401`,
      );
    }

    const edgeCode = await buildEdgeFunctions();
    const s3Client = new S3Client({
      region: LOCAL_REGION,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      // Whatever the shell's AWS settings or profile say: only the local S3 is asked.
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      credentials,
    });
    closers.push(async () => s3Client.destroy());

    let restApi: LocalRestApi | undefined;
    // keys.json is checked on every /files/ request (its inode, size and time, one stat) and
    // read again when it changed, so a `signet keys` change holds from the next request on.
    let current = { stamp: '', keys: Promise.resolve(trustedKeys(keyGroup)) };
    const edge = await startEdge({
      port: options.edgePort,
      api: () => restApi,
      trustedKeys: async () => {
        const stamp = await stat(paths(dir).keyGroup).then(
          (file) => `${file.ino}:${file.size}:${file.mtimeMs}:${file.ctimeMs}`,
          () => 'unreadable',
        );
        if (stamp !== current.stamp) {
          // Requests that arrive while it is read wait for the same read.
          const previous = current.keys;
          const keys = readKeyGroup(dir, 'fix it: the edge keeps the last good key group until then').then(
            (entries) => (entries ? trustedKeys(entries) : previous),
            (error: Error) => {
              // A half-edited or broken keys.json must not take the stack down: keep the last good set.
              process.stderr.write(`signet dev: ignoring ${error.message}\n`);
              return previous;
            },
          );
          current = { stamp, keys };
        }
        return current.keys;
      },
      viewerRequest: loadEdgeFunction(edgeCode.viewerRequest),
      viewerResponse: loadEdgeFunction(edgeCode.viewerResponse),
      origin: {
        endpoint: new URL(s3.endpoint),
        bucket: LOCAL_BUCKET,
        region: LOCAL_REGION,
        credentials,
        sha256: s3Client.config.sha256,
      },
    });
    closers.push(() => closeServer(edge.server));

    // The handlers' settings: the caller's, with the local stack's own over them. Each start
    // builds its handlers afresh, as a cold start does.
    const handlerEnv = {
      ...env,
      SIGNET_BUCKET: LOCAL_BUCKET,
      SIGNET_REGION: LOCAL_REGION,
      SIGNET_S3_ENDPOINT: s3.endpoint,
      SIGNET_DISTRIBUTION_DOMAIN: edge.url,
      SIGNET_CF_KEY_PAIR_ID: active.id,
      SIGNET_CF_PRIVATE_KEY_FILE: paths(dir).privateKey(active.name),
      SIGNET_ISSUER: issuer.url,
      SIGNET_AUDIENCE: LOCAL_AUDIENCE,
      SIGNET_JWKS_URL: issuer.jwks,
      // Quieter than on Lambda, unless a level is set (loadConfig checks it).
      ...(env.POWERTOOLS_LOG_LEVEL?.trim() || env.LOG_LEVEL?.trim() ? {} : { POWERTOOLS_LOG_LEVEL: 'WARN' }),
    };
    const authorizer = authorizerFromEnv(handlerEnv);
    const lambdas = { download: await downloadFromEnv(handlerEnv, { credentials }) } satisfies Record<
      RouteLambda,
      unknown
    >;
    restApi = new RestApi({
      region: LOCAL_REGION,
      authorizer,
      routes: API_ROUTES.map(({ lambda, ...route }) => ({ ...route, handler: lambdas[lambda] })),
    });

    const sampleKeys: string[] = [];
    for (const file of await listFiles(options.samplesDir)) {
      const key = relative(options.samplesDir, file).split(sep).join('/');
      await s3Client.send(
        new PutObjectCommand({
          Bucket: LOCAL_BUCKET,
          Key: key,
          Body: await readFile(file),
          // As an upload tool would set it, so `disposition=inline` shows a text sample.
          ContentType: contentType(extname(file)) || 'application/octet-stream',
        }),
      );
      sampleKeys.push(key);
    }

    const endpoints: Endpoints = {
      edge: edge.url,
      s3: s3.endpoint,
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      dynamodb: dynamo.endpoint,
      issuer: issuer.url,
      audience: LOCAL_AUDIENCE,
      jwks: issuer.jwks,
    };
    await writeJson(paths(dir).endpoints, endpoints, { secret: true });
    return { endpoints, sampleKeys: sampleKeys.sort(), notices, close };
  } catch (error) {
    await close();
    throw error;
  }
}
