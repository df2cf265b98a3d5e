import type { Server } from 'node:http';

/** Headers a proxy must not forward (RFC 9110 §7.6.1), plus `expect`, which it answers itself. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** Listens on 127.0.0.1; a busy port rejects (with `code` and `port`) instead of crashing the process. */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The query of a raw request URL (after its first `?`) as decoded name/value pairs, in
 * order; undefined when a percent-escape is malformed. `+` is a plus, as S3 and API Gateway
 * read it, not a space.
 */
export function queryPairs(rawUrl: string): [string, string][] | undefined {
  const at = rawUrl.indexOf('?');
  if (at < 0) return [];
  try {
    return rawUrl
      .slice(at + 1)
      .split('&')
      .filter((part) => part !== '')
      .map((part) => {
        const eq = part.indexOf('=');
        return eq < 0
          ? [decodeURIComponent(part), '']
          : [decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))];
      });
  } catch {
    return undefined;
  }
}
