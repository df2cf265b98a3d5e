// What the local S3 refuses before s3rver sees a request. s3rver builds file paths from what
// a request names (the path, query parameters, the copy source, keys and parts in a body):
// each such name is checked here, so none reaches outside the storage folder, names a file
// the disk cannot hold, or reaches s3rver in a shape that makes it fail (a 500, or a crash).
import type { IncomingHttpHeaders } from 'node:http';
import { isBucketName } from '../../api/core/config.ts';
import { queryPairs } from './http.ts';

/** A request the local S3 answers itself, before s3rver sees it. */
export interface StorageProblem {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** s3rver adds this to an object's file name (the longest of its suffixes, 22 bytes). */
const S3RVER_SUFFIX_BYTES = Buffer.byteLength('._S3rver_metadata.json');
/** One file name on disk: at most 255 bytes, so a segment at most 233 with s3rver's suffix. */
export const MAX_LOCAL_SEGMENT_BYTES = 255 - S3RVER_SUFFIX_BYTES;
/** s3rver's own file names; a key segment holding this would name one of them. */
const S3RVER_MARK = '._S3rver_';
/** An upload id as s3rver makes them: 16 random bytes in hex. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** A part number: 1 to 10000. */
const PART_NUMBER = /^(?:[1-9]\d{0,3}|10000)$/;
/**
 * A `response-*` value s3rver can echo: visible ASCII, space and tab. Node refuses a control
 * character in a header, and s3rver garbles anything beyond ASCII into one Node refuses.
 */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** The characters RFC 3986 allows in a request target (`%` as the start of an escape). */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;

const decoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
};

/** Why a key can never be stored here (s3rver keeps each key as files), or undefined. */
export function unstorableKey(key: string): string | undefined {
  if (key.includes('\0')) return 'holds a NUL';
  if (Buffer.byteLength(key, 'utf8') > 1024) return 'is longer than 1024 bytes';
  const segments = key.split('/');
  if (segments.some((segment) => Buffer.byteLength(segment, 'utf8') > MAX_LOCAL_SEGMENT_BYTES)) {
    return `has a segment longer than ${MAX_LOCAL_SEGMENT_BYTES} bytes`;
  }
  if (segments.some((segment) => segment.includes(S3RVER_MARK))) return `holds "${S3RVER_MARK}"`;
  // s3rver joins segments as a file path: `a//b` would be `a/b`, and `/` the bucket itself.
  // A last empty segment (a `folder/` marker) is a file of its own.
  if (segments.slice(0, -1).includes('')) return 'has an empty segment';
  return undefined;
}

/** The key of a decoded path-style request path: everything after the bucket. */
export const keyOf = (path: string) => path.slice(path.indexOf('/', 1) + 1 || path.length);

export const escapes = (path: string) =>
  path.split('/').some((segment) => segment === '.' || segment === '..');

/**
 * What the local S3 refuses before s3rver, which builds file paths from the request: a key,
 * an upload id, a part number or a copy source that would reach outside its folder, or name
 * a file the disk cannot hold (a crash inside s3rver), or clash with s3rver's own files.
 * Real S3 stores such keys; here a read of one answers 404 (it cannot exist) and a write 400.
 */
export function storageProblem(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
): StorageProblem | undefined {
  const [rawPath = ''] = rawUrl.split('?', 1);
  const path = decoded(rawPath);
  // Only what RFC 3986 allows in a request target: s3rver's URL parser reads `\` as `/`
  // once a `#` or white space is in the URL, which no segment check here would see.
  // Origin form only (`/bucket/key`): an absolute-form target (`http://host/bucket`) would
  // reach s3rver as its path, past every check below.
  if (path === undefined || !rawPath.startsWith('/') || !URI_CHARACTERS.test(rawUrl))
    return { status: 400, code: 'InvalidURI', message: "Couldn't parse the specified URI." };
  const rawBucket = rawPath.split('/')[1] ?? '';
  // Only the service itself (`/`) is named without a bucket.
  if ((rawBucket !== '' || rawPath !== '/') && !isBucketName(rawBucket)) {
    return { status: 400, code: 'InvalidBucketName', message: 'The specified bucket is not valid.' };
  }
  if (escapes(path)) {
    if (method === 'GET' || method === 'HEAD') {
      return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' };
    }
    return {
      status: 400,
      code: 'InvalidArgument',
      message: 'Keys with . or .. segments are not supported locally',
    };
  }
  const query = queryPairs(rawUrl) ?? [];
  // s3rver's query parser keeps the first 1000 parameters: a later one would go unseen here.
  if (query.length > 1000) {
    return { status: 400, code: 'InvalidArgument', message: 'A request takes at most 1000 query parameters' };
  }
  const seen = new Set<string>();
  const repeated = query.map(([name]) => name).find((name) => seen.size === seen.add(name).size);
  // s3rver would get an array, and fail on it with a 500.
  if (repeated !== undefined) {
    return {
      status: 400,
      code: 'InvalidArgument',
      message: `The query parameter ${repeated} is given more than once`,
    };
  }
  for (const [name, value] of query) {
    if (name === 'uploadId' && !UPLOAD_ID.test(value)) return NO_SUCH_UPLOAD;
    // s3rver copies `response-*` values into the answer's headers: one Node refuses (see
    // HEADER_VALUE) would be a 500.
    if (name.startsWith('response-') && !HEADER_VALUE.test(value)) {
      return { status: 400, code: 'InvalidArgument', message: `${name} is not a valid header value` };
    }
    // s3rver takes any `x-amz-*` query parameter for a header, over the header itself: a
    // copy source there would pass unchecked.
    if (name.toLowerCase().startsWith('x-amz-copy-source')) {
      return {
        status: 400,
        code: 'InvalidArgument',
        message: 'A copy source is sent as the x-amz-copy-source header',
      };
    }
    if (name === 'website') {
      return {
        status: 501,
        code: 'NotImplemented',
        message: 'Static website hosting is not supported locally',
      };
    }
    if (name === 'partNumber' && !PART_NUMBER.test(value)) {
      return {
        status: 400,
        code: 'InvalidArgument',
        message: 'Part number must be an integer between 1 and 10000, inclusive',
      };
    }
  }
  const key = keyOf(path);
  const unstorable = key === '' ? undefined : unstorableKey(key);
  if (unstorable) {
    if (method === 'GET' || method === 'HEAD') {
      return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' };
    }
    return {
      status: 400,
      code: 'KeyTooLongError',
      message: `The key ${unstorable}: the local S3 cannot store it (S3 keys end at 1024 bytes; locally a segment also ends at ${MAX_LOCAL_SEGMENT_BYTES} bytes and holds no NUL or "${S3RVER_MARK}")`,
    };
  }
  const copySource = headers['x-amz-copy-source'];
  if (typeof copySource === 'string') {
    // Checked as s3rver reads it: the whole header through decodeURI (a `?versionId=` and
    // anything after a `?` included), one leading `/` dropped, then `bucket/key`.
    let source: string;
    try {
      source = decodeURI(copySource).replace(/^\//, '');
    } catch {
      return { status: 400, code: 'InvalidArgument', message: 'Invalid copy source encoding' };
    }
    const [sourceBucket = '', ...rest] = source.split('/');
    const sourceKey = rest.join('/');
    if (!isBucketName(sourceBucket) || sourceKey === '' || escapes(source)) {
      return {
        status: 400,
        code: 'InvalidArgument',
        message: 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      };
    }
    if (unstorableKey(sourceKey)) {
      return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' };
    }
  }
  return undefined;
}

const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The text of an XML element's content, entities and character references resolved;
 * undefined when a reference names no character XML allows (`&#0;`, `&#x110000;`).
 */
function xmlText(text: string): string | undefined {
  let bad = false;
  const resolved = text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, ref: string) => {
    if (!ref.startsWith('#')) return XML_ENTITIES[ref.toLowerCase()] ?? '';
    const code = Number(ref[1]?.toLowerCase() === 'x' ? `0${ref.slice(1)}` : ref.slice(1));
    if (!(code >= 1 && code <= 0x10ffff)) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(code);
  });
  return bad ? undefined : resolved;
}

/** `xml` without its comments, or undefined when one never ends. Linear: no regex rescans. */
function withoutComments(xml: string): string | undefined {
  let out = '';
  let from = 0;
  for (;;) {
    const start = xml.indexOf('<!--', from);
    if (start < 0) return out + xml.slice(from);
    const end = xml.indexOf('-->', start + 4);
    if (end < 0) return undefined;
    out += xml.slice(from, start);
    from = end + 3;
  }
}

/**
 * The contents of every `<name …>…</name>` in `xml` (comments removed first; no nested
 * element of the same name). White space and attributes in a start tag are XML too. Each
 * search starts where the last element ended, and a start tag's attributes are bounded, so
 * the time is linear in the body: a body of unclosed tags cannot stall the server.
 */
function elements(xml: string, name: string): string[] {
  const open = new RegExp(`<${name}(?:\\s[^<>]{0,1024})?>`, 'g');
  const close = new RegExp(`</${name}\\s*>`, 'g');
  const found: string[] = [];
  for (;;) {
    const start = open.exec(xml);
    if (!start) return found;
    close.lastIndex = open.lastIndex;
    const end = close.exec(xml);
    if (!end) return found;
    found.push(xml.slice(open.lastIndex, end.index));
    open.lastIndex = close.lastIndex;
  }
}

export const NO_SUCH_UPLOAD: StorageProblem = {
  status: 404,
  code: 'NoSuchUpload',
  message: 'The specified upload does not exist. The upload ID may be invalid.',
};

const MALFORMED_XML: StorageProblem = {
  status: 400,
  code: 'MalformedXML',
  message: 'The XML you provided was not well-formed or did not validate against our published schema',
};

/** A DeleteObjects body, read: the keys to delete and whether to answer quietly. */
export function parseDeleteObjects(body: string): { keys: string[]; quiet: boolean } | StorageProblem {
  const xml = withoutComments(body);
  if (xml === undefined || !/<Delete[\s>]/.test(xml)) return MALFORMED_XML;
  const objects = elements(xml, 'Object');
  if (objects.length === 0 || objects.length > 1000) return MALFORMED_XML;
  const keys: string[] = [];
  for (const object of objects) {
    const [key] = elements(object, 'Key');
    const text = key === undefined || key.includes('<') ? undefined : xmlText(key);
    if (text === undefined) return MALFORMED_XML;
    keys.push(text);
  }
  return { keys, quiet: /<Quiet>\s*true\s*<\/Quiet>/i.test(xml) };
}

/** A CompleteMultipartUpload body, read: each part's number and ETag (quotes dropped). */
export function parseCompletion(body: string): { number: string; etag: string }[] | StorageProblem {
  const xml = withoutComments(body);
  if (xml === undefined || !/<CompleteMultipartUpload[\s>]/.test(xml)) return MALFORMED_XML;
  const parts = elements(xml, 'Part').map((part) => ({
    number: elements(part, 'PartNumber')[0]?.trim(),
    etag: elements(part, 'ETag')[0],
  }));
  if (parts.length === 0) return MALFORMED_XML;
  const read: { number: string; etag: string }[] = [];
  for (const { number, etag } of parts) {
    const tag = etag === undefined ? undefined : xmlText(etag);
    if (number === undefined || tag === undefined || !PART_NUMBER.test(number)) return MALFORMED_XML;
    read.push({ number, etag: tag.replaceAll('"', '').trim() });
  }
  return read;
}
