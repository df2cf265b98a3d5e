import { describe, expect, it } from 'vitest';
import {
  authorizeRead,
  type Principal,
  prefixesFor,
  scopesFromClaims,
  validateKey,
} from '../../api/core/keys.ts';

const PREFIXES = ['public/', 'users/{sub}/'] as const;

function principal(sub: string, ...scopes: string[]): Principal {
  return { sub, scopes: new Set(scopes) };
}

describe('validateKey', () => {
  it.each([
    ['empty', ''],
    ['1025 UTF-8 bytes', 'a'.repeat(1025)],
    ['342 × "€" (1026 bytes)', '€'.repeat(342)],
    ['NUL', 'a\u0000b'],
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['TAB', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['NEL (C1)', 'a\u0085b'],
    ['"." segment', 'public/./a.pdf'],
    ['".." segment', 'public/../secret.pdf'],
    ['".." alone', '..'],
    ['"." alone', '.'],
    ['trailing ".."', 'public/..'],
    ['leading "/"', '/public/a.pdf'],
    ['empty segment', 'public//a.pdf'],
    ['trailing "/"', 'public/'],
    ['lone high surrogate', 'public/\ud800.pdf'],
    ['lone low surrogate', 'public/\udc00.pdf'],
  ])('rejects a key with %s', (_, key) => {
    // Act
    const validate = () => validateKey(key);

    // Assess
    expect(validate).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it.each([
    ['plain', 'public/a.pdf'],
    ['SigV4-hostile characters', 'public/a+b=c&d$e@f;g:h.pdf'],
    ['spaces', 'public/annual report 2024.pdf'],
    ['quotes and brackets', `public/it's "(x)" [1] {2}*.txt`],
    ['percent signs', 'public/100%25 done %.txt'],
    ['emoji', 'public/🎉 party 👩‍👩‍👧.png'],
    ['CJK', 'users/山田/報告書.pdf'],
    ['dots inside names', 'public/..hidden/a..b/.c'],
    ['exactly 1024 ASCII bytes', 'a'.repeat(1024)],
    ['exactly 1024 UTF-8 bytes', `${'€'.repeat(341)}a`],
  ])('accepts a key with %s', (_, key) => {
    // Act
    const result = validateKey(key);

    // Assess
    expect(result).toBe(key);
  });
});

describe('authorizeRead', () => {
  it.each([
    ['no scope at all', principal('alice')],
    ['only links:write', principal('alice', 'links:write')],
    ['a look-alike scope', principal('alice', 'downloads:reader', 'downloads')],
  ])('refuses a caller with %s', (_, caller) => {
    // Act
    const authorize = () => authorizeRead(caller, 'public/a.pdf', PREFIXES);

    // Assess
    expect(authorize).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_SCOPE', scope: 'downloads:read' }),
    );
  });

  it.each([
    ['public/a.pdf'],
    ['public/deep/down/b.txt'],
    ['users/alice/a.pdf'],
    ['users/alice/nested/b.pdf'],
  ])('lets alice read %s', (key) => {
    // Act
    const authorize = () => authorizeRead(principal('alice', 'downloads:read'), key, PREFIXES);

    // Assess
    expect(authorize).not.toThrow();
  });

  it.each([
    ['users/bob/a.pdf'],
    ['users/alice'],
    ['users/alicesmith/a.pdf'],
    ['private/a.pdf'],
    ['publicity/a.pdf'],
    ['Public/a.pdf'],
    // A prefix is where a key starts, not anything it holds.
    ['private/public/a.pdf'],
    ['x/users/alice/a.pdf'],
  ])('keeps alice out of %s', (key) => {
    // Act
    const authorize = () => authorizeRead(principal('alice', 'downloads:read'), key, PREFIXES);

    // Assess
    expect(authorize).toThrow(expect.objectContaining({ code: 'FORBIDDEN_KEY' }));
  });

  it.each([['users/bob/a.pdf'], ['private/a.pdf'], ['anything at all']])(
    'lets downloads:all read %s',
    (key) => {
      // Act
      const authorize = () => authorizeRead(principal('ops', 'downloads:all'), key, PREFIXES);

      // Assess
      expect(authorize).not.toThrow();
    },
  );

  it.each([
    ['a "/"', 'bob/x', 'users/bob/x/a.pdf'],
    ['a "/" that climbs', '../bob', 'users/../bob/a.pdf'],
    ['".."', '..', 'users/../a.pdf'],
    ['"."', '.', 'users/./a.pdf'],
    ['empty', '', 'users//a.pdf'],
    ['a control character', 'a\nb', 'users/a\nb/a.pdf'],
  ])('grants no templated prefix to a sub with %s', (_, sub, key) => {
    // Prepare
    const caller = principal(sub, 'downloads:read');

    // Act
    const authorize = () => authorizeRead(caller, key, PREFIXES);

    // Assess
    expect(authorize).toThrow(expect.objectContaining({ code: 'FORBIDDEN_KEY' }));
    expect(prefixesFor(PREFIXES, sub)).toEqual(['public/']);
    expect(() => authorizeRead(caller, 'public/a.pdf', PREFIXES)).not.toThrow();
  });

  it.each([
    ["$'", "alice$'secret", 'users/alice/secret/tax.pdf'],
    ['$`', '$`x', 'users/users/x/tax.pdf'],
    ['$&', 'a$&', 'users/a{sub}/tax.pdf'],
  ])('templates a sub holding %s literally, never as a replacement pattern', (_, sub, outside) => {
    // Prepare
    const caller = principal(sub, 'downloads:read');

    // Act
    const prefixes = prefixesFor(PREFIXES, sub);

    // Assess
    expect(prefixes).toEqual(['public/', `users/${sub}/`]);
    expect(() => authorizeRead(caller, outside, PREFIXES)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN_KEY' }),
    );
    expect(() => authorizeRead(caller, `users/${sub}/tax.pdf`, PREFIXES)).not.toThrow();
  });

  it('templates every {sub} in a prefix', () => {
    // Act
    const prefixes = prefixesFor(['teams/{sub}/shared/{sub}/', 'public/'], 'alice');

    // Assess
    expect(prefixes).toEqual(['teams/alice/shared/alice/', 'public/']);
  });
});

describe('scopesFromClaims', () => {
  it.each([
    ['a scope string', { scope: 'downloads:read links:write' }, ['downloads:read', 'links:write']],
    [
      'a scope string with extra spaces',
      { scope: '  downloads:read   links:write ' },
      ['downloads:read', 'links:write'],
    ],
    ['an scp array', { scp: ['downloads:read', 'links:write'] }, ['downloads:read', 'links:write']],
    ['an scp array with junk', { scp: ['downloads:read', 7, null, ''] }, ['downloads:read']],
    ['an scp string', { scp: 'downloads:all' }, ['downloads:all']],
    ['both claims', { scope: 'downloads:read', scp: ['links:write'] }, ['downloads:read', 'links:write']],
    ['neither claim', { sub: 'alice' }, []],
    ['a non-string scope', { scope: 42 }, []],
    // Passed on space-separated, these would become downloads:all at the route.
    ['an scp item holding a space', { scp: ['profile downloads:all', 'links:write'] }, ['links:write']],
    ['a scope item holding a tab', { scope: 'profile\tdownloads:all downloads:read' }, ['downloads:read']],
  ])('reads %s', (_, claims, expected) => {
    // Act
    const scopes = scopesFromClaims(claims);

    // Assess
    expect([...scopes].sort()).toEqual([...expected].sort());
  });
});
