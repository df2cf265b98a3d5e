import { authorizerFromEnv } from '../adapters/authorizer.ts';

/** Lambda entry point of the REST API REQUEST authorizer, built once per cold start. */
export const handler = authorizerFromEnv(process.env);
