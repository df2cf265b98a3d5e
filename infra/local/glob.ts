/**
 * The glob AWS policies use, for an IAM Resource or Action and a CloudFront policy's
 * Resource: `*` any run of characters (none included), `?` exactly one, nothing else
 * special. No backtracking blow-up: at worst the pattern's length times the value's.
 * `ignoreCase` for IAM actions.
 */
export function globMatches(pattern: string, value: string, { ignoreCase = false } = {}): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  let at = 0;
  let i = 0;
  let star = -1;
  let resume = 0;
  while (i < v.length) {
    if (at < p.length && (p[at] === '?' || p[at] === v[i])) {
      at++;
      i++;
    } else if (at < p.length && p[at] === '*') {
      star = at++;
      resume = i;
    } else if (star !== -1) {
      at = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (p[at] === '*') at++;
  return at === p.length;
}
