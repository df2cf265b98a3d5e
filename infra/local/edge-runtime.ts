// Runs built CloudFront Functions code the way CloudFront does: a script in its own realm with
// only the JavaScript built-ins (no require, process, module, fetch, timers, eval), called
// through its global `handler`. The local edge runs the very code that is deployed.
import { createContext, Script } from 'node:vm';

/**
 * Default wall-clock limit on one call's synchronous run, in milliseconds. It stops runaway
 * loops; it does not model CloudFront's compute-utilization quota (a tight 50 ms wall clock
 * fails spuriously on a loaded machine).
 */
export const EDGE_CALL_TIMEOUT_MILLIS = 1000;

export interface EdgeFunctionOptions {
  /**
   * Wall-clock limit on each call, in milliseconds: on its synchronous run, and on an async
   * handler's promise, which must settle within it too. @default 1000
   */
  readonly timeoutMillis?: number;
}

const EVENT_SLOT = '__signetEdgeEvent';

// The event crosses into the function's realm as JSON and the result comes back as JSON, as
// with CloudFront: the function sees no object of ours (nothing to climb out through) and the
// caller gets plain data. An async handler's result is serialized once it settles.
const CALL = `(function (event) {
  var result = handler(event);
  return result && typeof result.then === 'function' ? result.then(JSON.stringify) : JSON.stringify(result);
})(JSON.parse(globalThis.${EVENT_SLOT}))`;

function fromJson(json: unknown): unknown {
  return typeof json === 'string' ? (JSON.parse(json) as unknown) : undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** `pending`, or a rejection once `millis` pass first: CloudFront ends a function that hangs. */
function within<T>(pending: PromiseLike<T>, millis: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`the edge function did not settle in ${millis} ms`), {
            code: 'ERR_EDGE_FUNCTION_TIMEOUT',
          }),
        ),
      millis,
    );
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/**
 * Loads built edge code in a fresh `node:vm` context and returns its global `handler` (its
 * result as plain data, or a Promise of it for an async handler); each call is cut off after
 * `timeoutMillis` (default 1000). Throws if the code defines no `handler`.
 */
export function loadEdgeFunction(
  code: string,
  options: EdgeFunctionOptions = {},
): (event: unknown) => unknown {
  const timeout = options.timeoutMillis ?? EDGE_CALL_TIMEOUT_MILLIS;
  // A fresh context holds the JS built-ins only; string evaluation is off, as at the edge.
  const context = createContext(
    {},
    { name: 'cloudfront-function', codeGeneration: { strings: false, wasm: false } },
  ) as Record<string, unknown>;
  new Script(code, { filename: 'cloudfront-function.js' }).runInContext(context, {
    timeout,
  });
  const kind = new Script('typeof handler').runInContext(context) as unknown;
  if (kind !== 'function') {
    throw new Error(`the edge code defines no function handler (typeof handler is ${String(kind)})`);
  }

  const call = new Script(CALL, { filename: 'cloudfront-call.js' });
  return (event: unknown): unknown => {
    context[EVENT_SLOT] = JSON.stringify(event);
    try {
      const result = call.runInContext(context, { timeout }) as unknown;
      return isThenable(result) ? within(result, timeout).then(fromJson) : fromJson(result);
    } finally {
      delete context[EVENT_SLOT];
    }
  };
}
