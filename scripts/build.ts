import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { writeEdgeFunctions } from '../edge/build.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The Lambda entry points (SPEC.md, "Layout"). */
export const LAMBDA_ENTRIES = ['authorizer', 'download'] as const;
export type LambdaName = (typeof LAMBDA_ENTRIES)[number];

export interface BundleInfo {
  readonly name: LambdaName;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/**
 * Bundles each handler as one minified ESM file for the Node.js Lambda runtime, the AWS
 * SDK included (so the versions are the pinned ones, and unused code is shaken out).
 */
export async function buildLambdas(outDir = join(ROOT, 'dist/lambda')): Promise<BundleInfo[]> {
  const infos: BundleInfo[] = [];
  for (const name of LAMBDA_ENTRIES) {
    const result = await build({
      entryPoints: [join(ROOT, 'api/handlers', `${name}.ts`)],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      treeShaking: true,
      mainFields: ['module', 'main'],
      legalComments: 'none',
      write: false,
      // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    });
    const code = result.outputFiles[0]?.contents;
    if (!code) throw new Error(`esbuild produced nothing for ${name}`);
    const file = join(outDir, name, 'index.mjs');
    await mkdir(join(outDir, name), { recursive: true });
    await writeFile(file, code);
    infos.push({ name, file, bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength });
  }
  return infos;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const infos = await buildLambdas();
  await writeEdgeFunctions(join(ROOT, 'dist/edge'));
  for (const info of infos) {
    console.log(
      `${info.name}: ${(info.bytes / 1024).toFixed(1)} KiB, ${(info.gzipBytes / 1024).toFixed(1)} KiB gzip`,
    );
  }
}
