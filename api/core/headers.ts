/**
 * Every value of header `name` (lower case) in a header map, in order, whatever the case of
 * its keys: several keys may differ in case only, as in an API Gateway event.
 */
export function headerValues<T>(
  headers: Readonly<Record<string, T | null | undefined>> | null | undefined,
  name: string,
): T[] {
  const values: T[] = [];
  // A plain loop over the names: an event holds a few dozen headers, read on every request.
  for (const key in headers ?? {}) {
    const value = headers?.[key];
    if (value !== undefined && value !== null && key.toLowerCase() === name) values.push(value);
  }
  return values;
}
