import { describe, expect, it } from 'vitest';
import { globMatches } from '../../infra/local/glob.ts';

describe('globMatches (IAM and CloudFront policy globs)', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything/at all', true],
    ['', '', true],
    ['', 'x', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*c', 'ac', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abcd', false],
    ['https://d1.example/files/*', 'https://d1.example/files/a b.pdf', true],
    ['https://d1.example/files/*', 'https://d1.example/filesX/a.pdf', false],
    // Nothing but `*` and `?` is special: a dot, a plus or brackets are themselves.
    ['https://d1.example/*', 'https://d1Xexample/a', false],
    ['a+b', 'aab', false],
    ['a+b', 'a+b', true],
    ['(a|b)', 'a', false],
    ['[ab]', 'a', false],
    ['arn:aws:execute-api:us-east-1:1:api/prod/*', 'arn:aws:execute-api:us-east-1:1:api/prod/GET/d/x', true],
    ['arn:aws:execute-api:us-east-1:1:api/prod/*', 'arn:aws:execute-api:us-east-1:1:api/dev/GET/d/x', false],
    ['*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000), false],
  ])('%j against %j: %s', (pattern, value, expected) => {
    // Act + Assess
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it('ignores case only when told (IAM actions)', () => {
    // Act + Assess
    expect(globMatches('execute-api:invoke', 'execute-api:Invoke')).toBe(false);
    expect(globMatches('execute-api:invoke', 'execute-api:Invoke', { ignoreCase: true })).toBe(true);
    expect(globMatches('Execute-API:Inv*', 'execute-api:Invoke', { ignoreCase: true })).toBe(true);
  });
});
