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
