import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { type Config, type Env, loadConfig } from '../core/config.ts';
import { UnauthorizedError, UnavailableError } from '../core/errors.ts';
import { extractToken, verifyToken } from '../core/token.ts';

/** What the route receives as `requestContext.authorizer`. */
export interface AuthorizerContext {
  readonly sub: string;
  /** Space-separated scopes. */
  readonly scope: string;
  [key: string]: string;
}

export interface AuthorizerDeps {
  readonly config: Config;
  readonly keys: JWTVerifyGetKey;
  readonly logger: Logger;
}

/**
 * `arn:aws:execute-api:{region}:{account}:{api}/{stage}/*`: every method and path of this
 * stage, so a cached policy serves every route the token may reach; the routes check scopes.
 */
export function stageWildcard(methodArn: string): string {
  // `arn:aws:execute-api:{region}:{account}:{api}` is the first `/`-part, the stage the second.
  const [prefix, stage] = methodArn.split('/');
  return `${prefix}/${stage}/*`;
}

/**
 * A REST API REQUEST authorizer. A missing or bad token throws `Unauthorized` (the
 * gateway's 401); an unreachable JWKS, or a bug, throws any other error (the gateway's
 * authorizer failure, answered as 503): it never allows.
 */
export function createAuthorizer({ config, keys, logger }: AuthorizerDeps) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    try {
      const token = extractToken(event.headers, config.cookieName, event.multiValueHeaders);
      const { principal } = await verifyToken(token, keys, config);
      return {
        principalId: principal.sub,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) },
          ],
        },
        context: { sub: principal.sub, scope: [...principal.scopes].join(' ') } satisfies AuthorizerContext,
      };
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        // jose's code: which check refused it. For a signature, also jose's message (why a
        // key listed could not verify it); for a claim, its name. Never a message that may
        // quote the token (a header's `crit` names are the caller's own text).
        const cause = error.cause as { code?: string; message?: string; claim?: string } | undefined;
        logger.info('token rejected', {
          reason: cause?.code ?? error.message,
          ...(cause?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? { detail: cause.message } : {}),
          ...(typeof cause?.claim === 'string' ? { claim: cause.claim } : {}),
        });
        throw new Error('Unauthorized');
      }
      if (error instanceof UnavailableError) {
        logger.error('token verification unavailable', { error });
        throw new Error('AuthorizerUnavailable');
      }
      // A bug: API Gateway answers any throw but "Unauthorized" alike, so only the log differs.
      logger.error('authorizer failed', { error: error as Error });
      throw error;
    }
  };
}

/**
 * The authorizer built from settings (`process.env` on Lambda, once per cold start; the
 * local stack's own): config, the JWKS set (jose's cache and cooldown), the logger.
 */
export function authorizerFromEnv(env: Env) {
  const config = loadConfig(env);
  return createAuthorizer({
    config,
    keys: createRemoteJWKSet(config.jwksUrl, { timeoutDuration: 2000, cooldownDuration: 30_000 }),
    logger: new Logger({ serviceName: 'signet-authorizer', logLevel: config.logLevel }),
  });
}
