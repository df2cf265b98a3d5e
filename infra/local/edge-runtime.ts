// Runs built CloudFront Functions code the way CloudFront does: a script in its own realm with
// only the JavaScript built-ins (no require, process, module, fetch, timers, eval), called
// through its global `handler`. The local edge runs the very code that is deployed.
import { createContext, Script } from 'node:vm';

/**
 * Default wall-clock limit on one call, in milliseconds: its run and its promise's settling.
 * It stops runaway loops; it does not model CloudFront's compute-utilization quota (a tight
 * 50 ms wall clock fails spuriously on a loaded machine).
 */
export const EDGE_CALL_TIMEOUT_MILLIS = 1000;

export interface EdgeFunctionOptions {
  /** Wall-clock limit on each call, in milliseconds. @default 1000 */
  readonly timeoutMillis?: number;
}

const EVENT_SLOT = '__signetEdgeEvent';
const OUTCOME_SLOT = '__signetEdgeOutcome';

// The event crosses into the function's realm as JSON and the outcome comes back as JSON, as
// with CloudFront: the function sees no object of ours (nothing to climb out through) and the
// caller gets plain data. An async handler's outcome is written once it settles; the realm's
// own microtask queue runs within the call (see below), so by the end of the call it has
// settled, or it never will: the realm has no timers and no I/O to wait for.
const CALL = `(function (event) {
  function settle(outcome) { globalThis.${OUTCOME_SLOT} = JSON.stringify(outcome); }
  var result = handler(event);
  if (result && typeof result.then === 'function') {
    result.then(function (value) { settle({ value: value }); }, function (error) {
      settle({ error: String(error && error.message || error) });
    });
  } else {
    settle({ value: result });
  }
})(JSON.parse(globalThis.${EVENT_SLOT}))`;

/**
 * Loads built edge code in a fresh `node:vm` context and returns its global `handler`,
 * called synchronously: its result (an async handler's, once settled) as plain data. A call
 * throws when the handler throws or rejects, when its promise does not settle, and when the
 * call (the handler's run and its promise's settling together) takes over `timeoutMillis`
 * (default 1000). Throws if the code defines no `handler`.
 */
export function loadEdgeFunction(
  code: string,
  options: EdgeFunctionOptions = {},
): (event: unknown) => unknown {
  const timeout = options.timeoutMillis ?? EDGE_CALL_TIMEOUT_MILLIS;
  // A fresh context holds the JS built-ins only; string evaluation is off, as at the edge.
  // Its microtasks run before each evaluation returns, inside the timeout: code after an
  // `await` that loops forever is cut off like any other, where on the shared queue it
  // would hold the whole process.
  const context = createContext(
    {},
    {
      name: 'cloudfront-function',
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    },
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
      call.runInContext(context, { timeout });
      const outcome = context[OUTCOME_SLOT];
      if (typeof outcome !== 'string') throw new Error('the edge function never settled');
      const { value, error } = JSON.parse(outcome) as { value?: unknown; error?: string };
      if (error !== undefined) throw new Error(`the edge function failed: ${error}`);
      return value;
    } finally {
      delete context[EVENT_SLOT];
      delete context[OUTCOME_SLOT];
    }
  };
}
