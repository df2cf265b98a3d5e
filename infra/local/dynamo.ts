import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { listen } from './http.ts';

/** A DynamoDB-compatible server (dynalite, LevelDB under `directory`) on 127.0.0.1. */
export async function startDynamo(options: {
  /** 0 for a random port. */
  readonly port: number;
  readonly directory: string;
}): Promise<{ endpoint: string; close(): Promise<void> }> {
  await mkdir(options.directory, { recursive: true });
  const server = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
