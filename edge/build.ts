// Builds the CloudFront Functions in edge/ into plain scripts for runtime cloudfront-js-2.0:
// no module syntax, a global `function handler`, whitespace minified, at most 10 KB each.
// `tsx edge/build.ts [outDir]` writes them to dist/edge/ by default.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const EDGE_DIR = dirname(fileURLToPath(import.meta.url));

/** CloudFront's limit on a function's code, in bytes. */
export const MAX_FUNCTION_BYTES = 10_240;

/**
 * Syntax newer than ES 5.1 that cloudfront-js-2.0 does not list as supported: esbuild lowers
 * it, or fails the build when it cannot (classes, generators), so nothing unsupported ships.
 */
const UNSUPPORTED = [
  'array-spread',
  'async-generator',
  'class',
  'default-argument',
  'destructuring',
  'for-await',
  'for-of',
  'generator',
  'logical-assignment',
  'nested-rest-binding',
  'nullish-coalescing',
  'object-extensions',
  'object-rest-spread',
  'optional-catch-binding',
  'optional-chain',
  'regexp-dot-all-flag',
  'regexp-lookbehind-assertions',
  'regexp-named-capture-groups',
  'regexp-sticky-and-unicode-flags',
  'regexp-unicode-property-escapes',
] as const;

/** Bundles one edge entry point into a script defining a global `handler`. */
async function buildOne(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(EDGE_DIR, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    supported: Object.fromEntries(UNSUPPORTED.map((feature) => [feature, false])),
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    charset: 'ascii',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error(`esbuild produced no output for edge/${entry}`);
  // The entry exports `handler` for type checking; CloudFront wants a plain global instead.
  const code = output.text.replace(/export\s*\{\s*handler\s*\};?\s*$/, '').trimEnd();
  if (!/(^|[;}\s])function handler\(/.test(code) || /\b(export|import)\b/.test(code)) {
    throw new Error(`edge/${entry} did not build to a script with a global function handler`);
  }
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > MAX_FUNCTION_BYTES) {
    throw new Error(`edge/${entry} is ${bytes} bytes, over CloudFront's ${MAX_FUNCTION_BYTES}`);
  }
  return `${code}\n`;
}

/** Builds both CloudFront Functions; each string is the exact code to deploy (or run locally). */
export async function buildEdgeFunctions(): Promise<{ viewerRequest: string; viewerResponse: string }> {
  const [viewerRequest, viewerResponse] = await Promise.all([
    buildOne('viewer-request.ts'),
    buildOne('viewer-response.ts'),
  ]);
  return { viewerRequest, viewerResponse };
}

/** Writes `viewer-request.js` and `viewer-response.js` into `outDir` (created if missing). */
export async function writeEdgeFunctions(outDir: string): Promise<void> {
  const { viewerRequest, viewerResponse } = await buildEdgeFunctions();
  await mkdir(outDir, { recursive: true });
  await Promise.all([
    writeFile(join(outDir, 'viewer-request.js'), viewerRequest),
    writeFile(join(outDir, 'viewer-response.js'), viewerResponse),
  ]);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2] ?? join(EDGE_DIR, '..', 'dist', 'edge');
  await writeEdgeFunctions(outDir);
  console.log(`edge functions written to ${outDir}`);
}
