import { Logger } from '@aws-lambda-powertools/logger';
import { createRemoteJWKSet } from 'jose';
import { createAuthorizer } from '../adapters/authorizer.ts';
import { loadConfig } from '../core/config.ts';

/**
 * Lambda entry point of the REST API REQUEST authorizer. Config, the JWKS set (cached by
 * jose, with its cooldown) and the logger are built once per cold start.
 */
const config = loadConfig(process.env);
export const handler = createAuthorizer({
  config,
  keys: createRemoteJWKSet(config.jwksUrl, { timeoutDuration: 2000, cooldownDuration: 30_000 }),
  logger: new Logger({ serviceName: 'signet-authorizer' }),
});
