import { generateKeyPairSync } from 'node:crypto';
import { parse } from 'acorn';
import { ancestor } from 'acorn-walk';
import { beforeAll, describe, expect, it } from 'vitest';
import { CdnSigner } from '../../api/core/cdn-signer.ts';
import { contentDisposition } from '../../api/core/filename.ts';
import { buildEdgeFunctions } from '../../edge/build.ts';
import type { CfRequest, CfResponse, CfValues } from '../../edge/types.ts';
import { loadEdgeFunction } from '../../infra/local/edge-runtime.ts';

const PARAM = 'response-content-disposition';
const DISPOSITION = `attachment; filename="Report 2024.pdf"; filename*=UTF-8''Report%202024.pdf`;

const signer = new CdnSigner({
  origin: new URL('https://d111111abcdef8.cloudfront.net'),
  keyPairId: 'K2JCJMDEHXQW5F',
  privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
});

let built: { viewerRequest: string; viewerResponse: string };
let viewerRequest: (event: unknown) => unknown;
let viewerResponse: (event: unknown) => unknown;

beforeAll(async () => {
  built = await buildEdgeFunctions();
  viewerRequest = loadEdgeFunction(built.viewerRequest);
  viewerResponse = loadEdgeFunction(built.viewerResponse);
});

function request(uri: string, querystring: CfValues = {}): CfRequest {
  return {
    method: 'GET',
    uri,
    querystring,
    headers: { host: { value: 'd111111abcdef8.cloudfront.net' } },
    cookies: {},
  };
}

function requestEvent(uri: string, querystring: CfValues = {}) {
  return {
    version: '1.0',
    context: { eventType: 'viewer-request', distributionId: 'EDFDVBD6EXAMPLE', requestId: 'r-1' },
    viewer: { ip: '198.51.100.7' },
    request: request(uri, querystring),
  };
}

function s3Response(statusCode = 200, headers: CfValues = {}): CfResponse {
  return {
    statusCode,
    statusDescription: 'OK',
    headers: { 'content-type': { value: 'application/pdf' }, etag: { value: '"abc"' }, ...headers },
    cookies: {},
  };
}

function responseEvent(querystring: CfValues, response: CfResponse = s3Response()) {
  return {
    version: '1.0',
    context: { eventType: 'viewer-response', distributionId: 'EDFDVBD6EXAMPLE', requestId: 'r-1' },
    viewer: { ip: '198.51.100.7' },
    request: request('/report.pdf', querystring),
    response,
  };
}

describe('built edge code', () => {
  it.each(['viewerRequest', 'viewerResponse'] as const)('%s fits CloudFront Functions', (name) => {
    // Prepare
    const code = built[name];

    // Act
    const bytes = Buffer.byteLength(code, 'utf8');

    // Assess
    expect(bytes).toBeLessThan(10_240);
    expect(code).toMatch(/function handler\(/);
    expect(code).not.toMatch(/\b(export|import|require)\b/);
  });
});

/**
 * Syntax newer than ES 5.1 that the cloudfront-js-2.0 runtime does not list as supported
 * (AWS, "JavaScript runtime 2.0 features for CloudFront Functions"): what edge/build.ts asks
 * esbuild to lower, found in the built code itself, so a change of build flags cannot ship it.
 */
function unsupportedSyntax(code: string): string[] {
  const found: string[] = [];
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'script' });
  const fn = (node: { generator?: boolean; async?: boolean }) => {
    if (node.generator) found.push(node.async ? 'async generator' : 'generator');
  };
  ancestor(ast, {
    ClassDeclaration: () => found.push('class'),
    ClassExpression: () => found.push('class'),
    FunctionDeclaration: fn,
    FunctionExpression: fn,
    ForOfStatement: (node) => found.push((node as { await?: boolean }).await ? 'for await' : 'for-of'),
    ObjectPattern: () => found.push('destructuring'),
    ArrayPattern: () => found.push('destructuring'),
    AssignmentPattern: () => found.push('default argument'),
    SpreadElement: () => found.push('spread'),
    // A rest parameter is supported; a rest element anywhere else (destructuring) is not.
    RestElement: (node, _state, ancestors) => {
      const parent = ancestors.at(-2) as { params?: unknown[] } | undefined;
      if (!parent?.params?.includes(node)) found.push('rest element');
    },
    ChainExpression: () => found.push('optional chain'),
    LogicalExpression: (node) => {
      if ((node as { operator: string }).operator === '??') found.push('nullish coalescing');
    },
    AssignmentExpression: (node) => {
      if (['||=', '&&=', '??='].includes((node as { operator: string }).operator))
        found.push('logical assignment');
    },
    Property: (node) => {
      const { shorthand, method, computed, kind } = node as unknown as Record<string, unknown>;
      if (shorthand || method || computed || kind !== 'init') found.push('object literal extension');
    },
    CatchClause: (node) => {
      if ((node as { param: unknown }).param === null) found.push('optional catch binding');
    },
    Literal: (node) => {
      const regex = (node as { regex?: { pattern: string; flags: string } }).regex;
      if (!regex) return;
      if (/[suyv]/.test(regex.flags)) found.push(`regexp flag in /${regex.pattern}/${regex.flags}`);
      if (/\(\?<[=!]/.test(regex.pattern)) found.push('regexp lookbehind');
      if (/\(\?<[A-Za-z_$]/.test(regex.pattern)) found.push('regexp named group');
      if (/\\[pP]\{/.test(regex.pattern)) found.push('regexp unicode property');
    },
  });
  return found;
}

describe('built edge code: only the syntax cloudfront-js-2.0 supports', () => {
  it.each(['viewerRequest', 'viewerResponse'] as const)('%s', (name) => {
    expect(unsupportedSyntax(built[name])).toEqual([]);
  });

  it.each([
    ['class A {}', 'class'],
    ['function* g() {}', 'generator'],
    ['for (const x of y) {}', 'for-of'],
    ['var { a } = b;', 'destructuring'],
    ['function f(a = 1) {}', 'default argument'],
    ['f(...a);', 'spread'],
    ['var [a, ...b] = c;', 'rest element'],
    ['var a = b?.c;', 'optional chain'],
    ['var a = b ?? c;', 'nullish coalescing'],
    ['a ||= b;', 'logical assignment'],
    ['var o = { a };', 'object literal extension'],
    ['try {} catch {}', 'optional catch binding'],
    ['var r = /(?<=a)b/;', 'regexp lookbehind'],
    ['var r = /a/s;', 'regexp flag in /a/s'],
  ])('the check finds %j', (code, what) => {
    expect(unsupportedSyntax(code)).toContain(what);
  });

  it.each([
    'function f(a, ...rest) { return rest; }',
    // A template literal with an await inside: JavaScript source, not a template here.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the string is code to parse
    'const f = async (x) => `${await x}`;',
    'let a = 2 ** 3;',
  ])('the check lets %j through (listed as supported)', (code) => {
    expect(unsupportedSyntax(code)).toEqual([]);
  });
});

describe('viewer-request', () => {
  it.each([
    ['/files/report.pdf', '/report.pdf'],
    ['/files/docs/2024/q1.pdf', '/docs/2024/q1.pdf'],
    ['/files/a%20b/%E5%A0%B1%E5%91%8A.pdf', '/a%20b/%E5%A0%B1%E5%91%8A.pdf'],
    ['/files/it%27s%2A/x%2Fy%25.txt', '/it%27s%2A/x%2Fy%25.txt'],
    ["/files/it's*(1)!.txt", "/it's*(1)!.txt"],
    ['/files/files/nested', '/files/nested'],
  ])('maps %s to the object key %s', (uri, expected) => {
    // Prepare
    const event = requestEvent(uri, { [PARAM]: { value: 'attachment' } });

    // Act
    const result = viewerRequest(event) as CfRequest;

    // Assess
    expect(result.uri).toBe(expected);
    expect(result.querystring).toEqual({ [PARAM]: { value: 'attachment' } });
    expect(result.headers).toEqual(event.request.headers);
  });

  it.each(['/', '/files', '/files/', '/filesx/a.pdf', '/api/files/a.pdf', '/FILES/a.pdf', '/links/abc'])(
    'leaves %s alone',
    (uri) => {
      // Prepare
      const event = requestEvent(uri);

      // Act
      const result = viewerRequest(event);

      // Assess
      expect(result).toEqual(event.request);
    },
  );
});

describe('viewer-response', () => {
  it.each([
    ['encoded as by encodeURIComponent', encodeURIComponent(DISPOSITION)],
    ['encoded as the signer re-encodes it', encodeURIComponent(DISPOSITION).replace(/'/g, '%27')],
    ['already decoded', DISPOSITION],
  ])('copies the parameter %s into content-disposition', (_, value) => {
    // Prepare
    const event = responseEvent({ [PARAM]: { value } });

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(result.headers['content-disposition']).toEqual({ value: DISPOSITION });
    expect(result.headers['content-type']).toEqual({ value: 'application/pdf' });
    expect(result.statusCode).toBe(200);
  });

  it.each([
    ['inline', 'inline'],
    ['inline%3B%20filename%3D%22a.png%22', 'inline; filename="a.png"'],
    ['attachment', 'attachment'],
    ['attachment%3Bfilename%3Da.txt', 'attachment;filename=a.txt'],
  ])('accepts the bare type or parameters: %s', (value, expected) => {
    // Prepare
    const event = responseEvent({ [PARAM]: { value } });

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(result.headers['content-disposition']).toEqual({ value: expected });
  });

  it('uses the first of a repeated parameter (multiValue)', () => {
    // Prepare
    const first = encodeURIComponent(DISPOSITION);
    const event = responseEvent({
      [PARAM]: {
        value: first,
        multiValue: [{ value: first }, { value: 'inline%3B%20filename%3D%22b.txt%22' }],
      },
    });

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(result.headers['content-disposition']).toEqual({ value: DISPOSITION });
  });

  it('replaces the content-disposition stored with the object', () => {
    // Prepare
    const event = responseEvent(
      { [PARAM]: { value: encodeURIComponent(DISPOSITION) } },
      s3Response(200, { 'content-disposition': { value: 'inline; filename="stored.pdf"' } }),
    );

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(result.headers['content-disposition']).toEqual({ value: DISPOSITION });
  });

  it.each([200, 206, 301, 304])('sets the header on a %i', (statusCode) => {
    // Prepare
    const event = responseEvent(
      { [PARAM]: { value: encodeURIComponent(DISPOSITION) } },
      s3Response(statusCode),
    );

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(result.headers['content-disposition']).toEqual({ value: DISPOSITION });
  });

  it.each([100, 400, 403, 404, 500, 503])('leaves a %i untouched', (statusCode) => {
    // Prepare
    const event = responseEvent(
      { [PARAM]: { value: encodeURIComponent(DISPOSITION) } },
      s3Response(statusCode),
    );

    // Act
    const result = viewerResponse(event);

    // Assess
    expect(result).toEqual(event.response);
  });

  it.each([
    ['no parameter', {}],
    ['an empty value', { [PARAM]: { value: '' } }],
    ['an empty multiValue with no value', { [PARAM]: { value: '', multiValue: [] } }],
    [
      'encoded CR LF',
      { [PARAM]: { value: 'attachment%3B%20filename%3D%22a.txt%22%0d%0aSet-Cookie%3A%20s%3D1' } },
    ],
    ['decoded CR LF', { [PARAM]: { value: 'attachment; filename="a.txt"\r\nSet-Cookie: s=1' } }],
    ['an encoded lone LF', { [PARAM]: { value: 'attachment%3B%20filename%3D%22a%0A.txt%22' } }],
    ['an encoded NUL', { [PARAM]: { value: 'attachment%3B%20filename%3D%22a%00.txt%22' } }],
    ['a tab', { [PARAM]: { value: 'attachment;\tfilename=a.txt' } }],
    ['DEL', { [PARAM]: { value: 'attachment; filename=a\u007f.txt' } }],
    ['raw non-ASCII', { [PARAM]: { value: 'attachment%3B%20filename%3D%22%C3%A9.txt%22' } }],
    ['another type', { [PARAM]: { value: 'form-data%3B%20name%3D%22x%22' } }],
    ['a type with a suffix', { [PARAM]: { value: 'attachmentx%3B%20filename%3Da.txt' } }],
    ['a type after a space', { [PARAM]: { value: '%20attachment' } }],
    ['an uppercase type', { [PARAM]: { value: 'ATTACHMENT' } }],
    ['malformed percent-encoding', { [PARAM]: { value: 'attachment%3B%20filename%3D%E0%A4%A.txt' } }],
    ['a truncated escape', { [PARAM]: { value: 'attachment%3' } }],
    ['a value over 2048 characters', { [PARAM]: { value: `attachment; filename="${'a'.repeat(2030)}"` } }],
    [
      'a multiValue whose first value is bad',
      { [PARAM]: { value: 'x', multiValue: [{ value: 'x' }, { value: 'inline' }] } },
    ],
  ])('sets no content-disposition for %s, only nosniff', (_, querystring: CfValues) => {
    // Prepare
    const event = responseEvent(querystring);
    const before = structuredClone(event.response);

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(result).toEqual({
      ...before,
      headers: { ...before.headers, 'x-content-type-options': { value: 'nosniff' } },
    });
  });

  it.each([
    [304, undefined, undefined],
    [304, 'text/html', 'attachment; filename="a.pdf"'],
    [200, undefined, 'attachment; filename="a.pdf"'],
  ])(
    'on a %i with type %s sends the disposition %s (a 304 with no type sends none: the browser keeps the one its copy was served with)',
    (statusCode, type, expected) => {
      // Prepare: a 304 as S3 might send it, with the object's stored disposition.
      const event = responseEvent(
        { [PARAM]: { value: 'inline%3B%20filename%3D%22a.pdf%22' } },
        {
          statusCode,
          headers: {
            'content-disposition': { value: 'inline' },
            ...(type === undefined ? {} : { 'content-type': { value: type } }),
          },
          cookies: {},
        },
      );

      // Act
      const result = viewerResponse(event) as CfResponse;

      // Assess
      expect(result.headers['content-disposition']).toEqual(
        expected === undefined ? undefined : { value: expected },
      );
      expect(result.headers['x-content-type-options']).toEqual({ value: 'nosniff' });
    },
  );

  it.each([
    ['image/png', 'inline'],
    ['application/pdf; charset=binary', 'inline'],
    ['text/plain;charset=utf-8', 'inline'],
    ['text/html', 'attachment'],
    ['image/svg+xml', 'attachment'],
    ['image/png;,text/html', 'attachment'],
    ['image/png, text/html', 'attachment'],
    ['text/html; x=application/pdf', 'attachment'],
    ['text/htmlapplication/pdf', 'attachment'],
    ['x/image/png', 'attachment'],
    ['', 'attachment'],
    [undefined, 'attachment'],
  ])(
    'serves inline only a type shown inline, whatever was signed: %s → %s (an object overwritten after signing)',
    (type, expected) => {
      // Prepare
      const event = responseEvent(
        { [PARAM]: { value: 'inline%3B%20filename%3D%22a.png%22' } },
        {
          statusCode: 200,
          headers: type === undefined ? {} : { 'content-type': { value: type } },
          cookies: {},
        },
      );

      // Act
      const result = viewerResponse(event) as CfResponse;

      // Assess
      expect(result.headers['content-disposition']).toEqual({ value: `${expected}; filename="a.png"` });
      expect(result.headers['x-content-type-options']).toEqual({ value: 'nosniff' });
    },
  );

  it.each([
    [2048, true],
    [2049, false],
  ])('takes a %i-character value: %s', (length, copied) => {
    // Prepare
    const value = `attachment; filename="${'a'.repeat(length - 'attachment; filename=""'.length)}"`;
    const event = responseEvent({ [PARAM]: { value: encodeURIComponent(value) } });

    // Act
    const result = viewerResponse(event) as CfResponse;

    // Assess
    expect(value).toHaveLength(length);
    expect(result.headers['content-disposition']).toEqual(copied ? { value } : undefined);
  });

  it.each([
    ['report final.pdf'],
    [`"quoted" & 'apos' *star*.txt`],
    ['100% + = & $ @ ; :.bin'],
    ['😀 報告書 été.pdf'],
    // The longest headers Signet writes: 255 bytes that NFKD grows most, or that all need
    // percent-encoding; each must stay within the function's 2048 characters.
    ['ﷺ'.repeat(85)],
    ['㍻'.repeat(85)],
    [`${'"'.repeat(250)}.pdf`],
  ])('restores the disposition of a URL from the real signer for %s', (name) => {
    // Prepare
    const disposition = contentDisposition('attachment', name);
    const signed = signer.sign(
      { key: 'a/b.pdf', contentDisposition: disposition },
      { signedAt: new Date(0), expiresAt: new Date(3_600_000) },
    );
    const raw = /[?&]response-content-disposition=([^&]*)/.exec(signed)?.[1] ?? '';

    // Act
    const result = viewerResponse(responseEvent({ [PARAM]: { value: raw } })) as CfResponse;

    // Assess
    expect(result.headers['content-disposition']).toEqual({ value: disposition });
  });
});

describe('loadEdgeFunction', () => {
  it('offers only the JavaScript built-ins', () => {
    // Prepare
    const handler = loadEdgeFunction(
      'function handler() { return [typeof require, typeof process, typeof module, typeof fetch, typeof setTimeout, typeof Buffer, typeof JSON]; }',
    );

    // Act
    const result = handler({});

    // Assess
    expect(result).toEqual([
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'object',
    ]);
  });

  it('refuses string evaluation', () => {
    // Prepare
    const handler = loadEdgeFunction("function handler() { return eval('1 + 1'); }");

    // Act
    const act = () => handler({});

    // Assess
    expect(act).toThrow(/Code generation from strings disallowed/);
  });

  it.each([
    ['no handler', 'function main(event) { return event; }'],
    ['a handler that is not a function', 'var handler = 1;'],
    ['an empty script', ''],
  ])('throws on code with %s', (_, code) => {
    // Act
    const act = () => loadEdgeFunction(code);

    // Assess
    expect(act).toThrow(/defines no function handler/);
  });

  it('hands the function a copy of the event and returns plain data', () => {
    // Prepare
    const handler = loadEdgeFunction(
      'function handler(event) { event.request.uri = "/changed"; return event.request; }',
    );
    const event = requestEvent('/files/a.pdf');

    // Act
    const result = handler(event);

    // Assess
    expect(result).toEqual({ ...event.request, uri: '/changed' });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(event.request.uri).toBe('/files/a.pdf');
  });

  it('resolves an async handler', async () => {
    // Prepare
    const handler = loadEdgeFunction(
      'async function handler(event) { return { statusCode: 200, seen: event.n }; }',
    );

    // Act
    const result = await handler({ n: 7 });

    // Assess
    expect(result).toEqual({ statusCode: 200, seen: 7 });
  });

  it('cuts off a call that runs too long', () => {
    // Prepare
    const handler = loadEdgeFunction('function handler() { for (;;) {} }', { timeoutMillis: 20 });

    // Act
    const act = () => handler({});

    // Assess
    expect(act).toThrow(expect.objectContaining({ code: 'ERR_SCRIPT_EXECUTION_TIMEOUT' }));
  });

  it('cuts off an async call that loops after an await, within the same limit', () => {
    // Prepare: on Node's own microtask queue this loop would hold the whole process.
    const handler = loadEdgeFunction('async function handler() { await null; for (;;) {} }', {
      timeoutMillis: 20,
    });

    // Act
    const act = () => handler({});

    // Assess
    expect(act).toThrow(expect.objectContaining({ code: 'ERR_SCRIPT_EXECUTION_TIMEOUT' }));
  });

  it.each([
    ['never settles', 'async function handler() { await new Promise(function () {}); }', 'never settled'],
    ['rejects', 'async function handler() { await null; throw new Error("boom"); }', 'failed: boom'],
    ['throws', 'function handler() { throw new Error("boom"); }', 'boom'],
  ])('throws when the handler %s', (_, code, message) => {
    // Prepare
    const handler = loadEdgeFunction(code);

    // Act
    const act = () => handler({});

    // Assess
    expect(act).toThrow(message);
  });

  it('can be called again after a call that failed', () => {
    // Prepare
    const handler = loadEdgeFunction(
      'async function handler(event) { if (event.fail) throw new Error("no"); return { ok: event.n }; }',
    );

    // Act
    const failed = () => handler({ fail: true });
    const result = handler({ n: 2 });

    // Assess
    expect(failed).toThrow('failed: no');
    expect(result).toEqual({ ok: 2 });
  });
});
