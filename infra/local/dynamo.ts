import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { closeServer, listen } from './http.ts';
import { openLevel } from './state.ts';

/**
 * Opens (and closes again) the LevelDB folder dynalite will use. dynalite opens it only on
 * the first request, and an error there is thrown where nothing can catch it: the whole
 * stack would go down on the first DynamoDB call. Checked here, it is one line at start.
 */
async function checkDatabase(directory: string): Promise<void> {
  const db = await openLevel(
    directory,
    'the DynamoDB data cannot be opened',
    'check its permissions, or delete the folder to start with no tables',
  );
  await db.close().catch(() => undefined);
}

/** A DynamoDB-compatible server (dynalite, LevelDB under `directory`) on 127.0.0.1. */
export async function startDynamo(options: {
  /** 0 for a random port. */
  readonly port: number;
  readonly directory: string;
}): Promise<{ endpoint: string; close(): Promise<void> }> {
  await mkdir(options.directory, { recursive: true });
  await checkDatabase(options.directory);
  const server = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => closeServer(server),
  };
}
