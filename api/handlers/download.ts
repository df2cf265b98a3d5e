import { downloadFromEnv } from '../adapters/download.ts';

/** Lambda entry point of `GET`/`HEAD /d/{key+}`. Top-level await: built once, in the init phase. */
export const handler = await downloadFromEnv(process.env);
