import { randomUUID } from 'node:crypto';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { type GatewayResponseType, gatewayResponse } from '../gateway-responses.ts';
import { globMatches } from './glob.ts';
import { HOP_BY_HOP, queryPairs } from './http.ts';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

/** One REST API method: a resource path such as `/d/{proxy+}`, Lambda proxy integration. */
export interface Route {
  readonly methods: readonly string[];
  readonly resource: string;
  /** Whether the REQUEST authorizer guards it. */
  readonly authorize: boolean;
  readonly handler: ProxyHandler;
}

export interface LocalRestApiOptions {
  readonly routes: readonly Route[];
  readonly authorizer: AuthorizerHandler;
  readonly region: string;
  /** Default `000000000000`. */
  readonly accountId?: string;
  /** Default `0000000000` (10 characters, as API Gateway's ids). */
  readonly apiId?: string;
  /** Default `local`. */
  readonly stage?: string;
}

export interface HttpRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly rawUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly sourceIp: string;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string | Buffer;
}

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.resource
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  // A REST API routes `/links/` to the resource `/links`: one trailing slash is ignored (a
  // greedy `{proxy+}` takes it into its value instead).
  return { ...route, pattern: new RegExp(`^${source}${source.endsWith('(.+)') ? '' : '/?'}$`), names };
}

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** API Gateway's limit on the method ARN of a method an authorizer guards. */
export const MAX_METHOD_ARN_BYTES = 1600;

/**
 * API Gateway's payload quota: a larger request body gets its REQUEST_TOO_LARGE answer. The
 * edge reads the body against it, so it can refuse without reading the rest.
 */
export const MAX_API_BODY_BYTES = 10 * 1024 * 1024;

/** Headers of a handler's answer that the gateway sets itself. */
const FRAMING = new Set([...HOP_BY_HOP, 'content-length']);

/**
 * The authorizer's context as the route receives it: API Gateway passes on strings, numbers
 * and booleans, all as strings, and refuses anything else (an object, an array, null) with
 * an AuthorizerConfigurationException: undefined then.
 */
function authorizerContextValues(context: unknown): Record<string, string> | undefined {
  if (context === undefined || context === null) return {};
  if (typeof context !== 'object' || Array.isArray(context)) return undefined;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(context)) {
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) return undefined;
    values[name] = String(value);
  }
  return values;
}

/** Evaluates an authorizer's policy as API Gateway does: an explicit Deny wins, else an Allow is needed. */
export function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  let allowed = false;
  // IAM's grammar allows one statement as an object as well as a list of them.
  for (const statement of toList<unknown>(result.policyDocument?.Statement)) {
    const s = statement as { Effect?: string; Action?: string | string[]; Resource?: string | string[] };
    // Action names ignore case in IAM, and take the same wildcards.
    const actionMatches = toList(s.Action).some((a) =>
      globMatches(a, 'execute-api:Invoke', { ignoreCase: true }),
    );
    const resourceMatches = toList(s.Resource).some((r) => globMatches(r, methodArn));
    if (!actionMatches || !resourceMatches) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function single(headers: HttpRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? (value.at(-1) ?? '') : value;
  }
  return out;
}

function multi(headers: HttpRequest['headers']): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? [...value] : [value];
  }
  return out;
}

function parseQuery(
  rawUrl: string,
): { single: Record<string, string>; multi: Record<string, string[]> } | undefined {
  // API Gateway decodes the query, `+` as a space (`%2B` is the plus).
  const pairs = queryPairs(rawUrl, 'space');
  if (!pairs) return undefined;
  // No prototype: a parameter named `constructor` or `__proto__` is just a parameter.
  const singleValues: Record<string, string> = Object.create(null);
  const multiValues: Record<string, string[]> = Object.create(null);
  for (const [name, value] of pairs) {
    singleValues[name] = value;
    const values = multiValues[name];
    if (values) values.push(value);
    else multiValues[name] = [value];
  }
  return { single: singleValues, multi: multiValues };
}

function lambdaContext(name: string): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function gateway(type: GatewayResponseType): HttpResponse {
  const response = gatewayResponse(type);
  return {
    statusCode: response.statusCode,
    headers: { ...response.headers },
    body: JSON.stringify(response.body),
  };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  const result = value as APIGatewayProxyResult | undefined;
  return (
    typeof result === 'object' &&
    result !== null &&
    Number.isInteger(result.statusCode) &&
    (result.body === undefined || typeof result.body === 'string')
  );
}

/**
 * The local API Gateway REST API: matches a resource, runs the REQUEST authorizer and
 * evaluates its IAM policy against the method ARN, then invokes the Lambda proxy handler
 * (payload 1.0) with the authorizer's context. The gateway's own rejections come from the
 * same Gateway Responses table the deployed API uses.
 */
export class LocalRestApi {
  readonly #routes: readonly CompiledRoute[];
  readonly #options: Required<LocalRestApiOptions>;

  constructor(options: LocalRestApiOptions) {
    // An API id has 10 characters: the method ARN is as long as a deployed one, and a
    // path near the 1,600-byte limit fails here as it would there.
    this.#options = { accountId: '000000000000', apiId: '0000000000', stage: 'local', ...options };
    this.#routes = options.routes.map(compile);
  }

  async handle(request: HttpRequest): Promise<HttpResponse> {
    const queryAt = request.rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? request.rawUrl : request.rawUrl.slice(0, queryAt);
    const query = parseQuery(request.rawUrl);
    if (!query) return gateway('DEFAULT_4XX');

    let matched: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of this.#routes) {
      const match = route.pattern.exec(rawPath);
      if (!match || !route.methods.includes(request.method)) continue;
      // As the request wrote them: a REST API does not decode path parameters.
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = match[i + 1] ?? '';
      });
      matched = { route, params };
      break;
    }
    if (!matched) return gateway('MISSING_AUTHENTICATION_TOKEN');
    const { route, params } = matched;

    // The path as the request wrote it, percent-encoded, as a REST API passes it on.
    const path = rawPath;
    // A resource without path parameters gets null, as a REST API sends it, not `{}`.
    const pathParameters = route.names.length > 0 ? params : null;
    const { accountId, apiId, stage, region } = this.#options;
    const resourcePath = route.resource.replace(/^\//, '');
    const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${request.method}/${rawPath.replace(/^\//, '')}`;
    // API Gateway refuses a method whose ARN is over 1,600 bytes when an authorizer guards
    // it, before the authorizer runs: 414, which the DEFAULT_4XX Gateway Response answers.
    if (route.authorize && Buffer.byteLength(methodArn) > MAX_METHOD_ARN_BYTES) return gateway('DEFAULT_4XX');
    const headers = single(request.headers);
    const multiValueHeaders = multi(request.headers);
    const requestContext = {
      accountId,
      apiId,
      stage,
      httpMethod: request.method,
      path: `/${stage}${path}`,
      resourcePath: route.resource,
      resourceId: resourcePath,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      protocol: 'HTTP/1.1',
      identity: { sourceIp: request.sourceIp, userAgent: headers['user-agent'] ?? null },
    } as unknown as APIGatewayProxyEvent['requestContext'];

    let authorizerContext: Record<string, unknown> | null = null;
    if (route.authorize) {
      const event = {
        type: 'REQUEST',
        methodArn,
        resource: route.resource,
        path,
        httpMethod: request.method,
        headers,
        multiValueHeaders,
        queryStringParameters: query.single,
        multiValueQueryStringParameters: query.multi,
        pathParameters,
        stageVariables: null,
        requestContext,
      } as unknown as APIGatewayRequestAuthorizerEvent;
      let result: APIGatewayAuthorizerResult;
      try {
        result = await this.#options.authorizer(event, lambdaContext('authorizer'));
      } catch (error) {
        return gateway(
          error instanceof Error && error.message === 'Unauthorized' ? 'UNAUTHORIZED' : 'AUTHORIZER_FAILURE',
        );
      }
      if (!result?.policyDocument || typeof result.principalId !== 'string') {
        return gateway('AUTHORIZER_CONFIGURATION_ERROR');
      }
      const context = authorizerContextValues(result.context);
      if (!context) return gateway('AUTHORIZER_CONFIGURATION_ERROR');
      if (!policyAllows(result, methodArn)) return gateway('ACCESS_DENIED');
      authorizerContext = { ...context, principalId: result.principalId };
    }

    const event: APIGatewayProxyEvent = {
      resource: route.resource,
      path,
      httpMethod: request.method,
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query.single).length ? query.single : null,
      multiValueQueryStringParameters: Object.keys(query.multi).length ? query.multi : null,
      pathParameters,
      stageVariables: null,
      requestContext: { ...requestContext, authorizer: authorizerContext },
      body: request.body === '' ? null : request.body,
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await route.handler(event, lambdaContext(route.resource));
    } catch {
      return gateway('DEFAULT_5XX');
    }
    if (!isProxyResult(result)) return gateway('DEFAULT_5XX');
    // The gateway frames the answer itself: a handler's Content-Length or hop-by-hop header
    // (in any case) is not passed on.
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(result.headers ?? {}))
      if (!FRAMING.has(name.toLowerCase())) out[name] = String(value);
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
      if (!FRAMING.has(name.toLowerCase())) out[name] = values.map(String);
    const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
    return { statusCode: result.statusCode, headers: out, body };
  }
}
