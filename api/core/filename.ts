import { encodeExtended } from 'content-disposition';
import { BadRequestError } from './errors.ts';

export type Disposition = 'attachment' | 'inline';

/** Longest filename Signet hands out, in UTF-8 bytes (the common filesystem limit). */
export const MAX_FILENAME_BYTES = 255;
/** Longest `filename` parameter accepted before sanitizing, in UTF-8 bytes. */
export const MAX_FILENAME_PARAM_BYTES = 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/**
 * Characters that hide or disguise part of a name and show nothing themselves: bidi
 * controls (they let "invoice\u202Efdp.exe" display as "invoiceexe.pdf"), zero-width
 * spaces and word joiners, invisible operators, the soft hyphen, the byte-order mark,
 * fillers and separators that show as nothing (Hangul fillers, the Mongolian vowel
 * separator), shorthand and musical format controls, interlinear annotation marks, line and
 * paragraph separators, noncharacters. The joiners emoji and scripts need (U+200C, U+200D)
 * and the visible signs among format characters (Arabic number signs) stay.
 */
const INVISIBLE =
  /[\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\p{Noncharacter_Code_Point}]/gu;
/** Tag characters, kept only where they spell a subdivision flag (🏴 + tags + cancel tag). */
const STRAY_TAGS = /(\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f})|[\u{e0000}-\u{e007f}]/gu;
const COMBINING = /[\u0300-\u036f]/g;
const GRAPHEMES = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Trailing white space and dots: Windows drops them, and a name of dots is a path. */
const TRAILING = /[.\s]+$/u;
/** A last dot followed by what could read as an extension (at most 15 characters, as kept). */
const LAST_EXTENSION = /\.([^.]{0,15})$/;

/**
 * Cuts `name` to at most `maxBytes` UTF-8 bytes, keeping a short extension and whole
 * grapheme clusters; empty when not even the first cluster of the stem fits.
 */
function truncate(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name, 'utf8') <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const budget = maxBytes - Buffer.byteLength(ext, 'utf8');
  let stem = '';
  let used = 0;
  // Whole grapheme clusters, so a flag or a family emoji is never cut in half.
  for (const { segment } of GRAPHEMES.segment(name.slice(0, name.length - ext.length))) {
    const size = Buffer.byteLength(segment, 'utf8');
    if (used + size > budget) break;
    stem += segment;
    used += size;
  }
  // A name that is only its extension would be a hidden dotfile.
  if (stem === '') return '';
  // An extension too long to keep is dropped: the cut must not make another of a dot left
  // at its end ("a.exe.zzzz…" cut to "a.exe.", then "a.exe").
  return ext === '' ? stem.replace(TRAILING, '').replace(LAST_EXTENSION, '_$1') : stem + ext;
}

/** The end of a name as it is saved: no trailing space or dot; undefined when no name is left. */
function finish(name: string): string | undefined {
  const trimmed = name.replace(TRAILING, '');
  return trimmed === '' || /^\.+$/.test(trimmed) ? undefined : trimmed;
}

/**
 * Makes a name safe to save as: path parts dropped, control and bidi characters removed,
 * NFC, trimmed of spaces and trailing dots, at most 255 UTF-8 bytes. Returns undefined
 * when nothing usable is left.
 */
export function sanitizeFilename(raw: string): string | undefined {
  if (!raw.isWellFormed()) return undefined;
  const base = raw.slice(Math.max(raw.lastIndexOf('/'), raw.lastIndexOf('\\')) + 1);
  const visible = base
    .replace(CONTROL, '')
    .replace(INVISIBLE, '')
    .replace(STRAY_TAGS, (_, flag) => flag ?? '');
  const cleaned = finish(visible.normalize('NFC').trim());
  if (cleaned === undefined) return undefined;
  // What was removed or trimmed must not leave a hidden dotfile ("\u202E.pdf" → ".pdf") of a
  // name that was not one.
  const named = cleaned.startsWith('.') && !base.startsWith('.') ? `download${cleaned}` : cleaned;
  // Cutting can end the name in a space or a dot again, or leave nothing (one cluster too long).
  return finish(truncate(named, MAX_FILENAME_BYTES));
}

/**
 * Decodes an RFC 2047 encoded word, which is how S3 returns non-ASCII user metadata
 * (`=?UTF-8?B?...?=` or `=?UTF-8?Q?...?=`). Anything else is returned as is.
 */
export function decodeMetadataValue(value: string): string {
  const trimmed = value.trim();
  if (!ENCODED_WORDS.test(trimmed)) return value;
  // RFC 2047 §6.2: white space between adjacent encoded words is dropped; each word holds
  // whole characters, so each decodes on its own.
  let broken = false;
  const decoded = trimmed.replace(/\?=\s+=\?/g, '?==?').replace(ENCODED_WORD, (word) => {
    const text = decodeWord(word);
    if (text === undefined) broken = true;
    return text ?? '';
  });
  // A word that does not decode makes the whole value unusable (resolveFilename skips it).
  return broken ? '' : decoded;
}

const ENCODED_WORD = /=\?utf-8\?[bq]\?[^?]*\?=/gi;
const ENCODED_WORDS = /^(=\?utf-8\?[bq]\?[^?]*\?=\s*)+$/i;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeWord(word: string): string | undefined {
  const match = /^=\?utf-8\?([bq])\?([^?]*)\?=$/i.exec(word);
  if (!match) return undefined;
  const [, encoding, text = ''] = match;
  if (encoding?.toLowerCase() === 'b') {
    // Base64 that holds UTF-8, or nothing: Buffer would skip stray characters and turn bad
    // bytes into U+FFFD, serving "���" as the name.
    if (!BASE64.test(text)) return undefined;
    try {
      return UTF8.decode(Buffer.from(text, 'base64'));
    } catch {
      return undefined;
    }
  }
  // A literal "%" is legal in Q text: escape it before turning "=XX" into "%XX".
  const bytes = text
    .replace(/%/g, '%25')
    .replace(/_/g, ' ')
    .replace(/=([0-9a-f]{2})/gi, (_, hex: string) => `%${hex}`);
  try {
    return decodeURIComponent(bytes);
  } catch {
    return undefined;
  }
}

export interface FilenameSources {
  /** The `filename` query parameter, if given. */
  readonly requested?: string | undefined;
  /** The object's `x-amz-meta-filename`, if any. */
  readonly metadata?: string | undefined;
  /** The object key; its last segment is the last resort. */
  readonly key: string;
}

/**
 * The filename, in order: the `filename` parameter (a bad one is a 400), the object's
 * `filename` metadata (a bad one is skipped), the key's last segment.
 */
export function resolveFilename({ requested, metadata, key }: FilenameSources): string {
  if (requested !== undefined) {
    if (Buffer.byteLength(requested, 'utf8') > MAX_FILENAME_PARAM_BYTES) {
      throw new BadRequestError(`the filename is longer than ${MAX_FILENAME_PARAM_BYTES} UTF-8 bytes`);
    }
    const name = sanitizeFilename(requested);
    if (name === undefined) throw new BadRequestError('the filename is empty or unusable once sanitized');
    return name;
  }
  const fromMetadata = metadata === undefined ? undefined : sanitizeFilename(decodeMetadataValue(metadata));
  return fromMetadata ?? sanitizeFilename(key) ?? 'download';
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** NFKD with the accents dropped. */
const fold = (name: string): string => name.normalize('NFKD').replace(COMBINING, '');

/**
 * NFKD a character at a time, with a dot it makes of another character ("․", "．", "⒈",
 * "㏂") as "_": only the name's own dots stay dots.
 */
function foldStrict(name: string): string {
  let folded = '';
  for (const char of name) folded += char === '.' ? char : fold(char).replaceAll('.', '_');
  return folded;
}

/** The text from a name's last dot on ("" without one). */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot);
}

/**
 * The ASCII stand-in for clients without RFC 8187 support: accents folded, anything else
 * outside printable ASCII, the characters that trip parsers (`"`, `\`, `%`) and the path
 * separator become "_". NFKD folds a fullwidth "／" into "/", so "/" is replaced after it;
 * a dot it would make of another character is "_" where it would give the stand-in another
 * extension than the name's, and a name of combining
 * marks folds to nothing,
 * so the stand-in is trimmed as the name was, and is "download" when nothing is left (a
 * client saving ".." or "" would fail), or starts with it where folding made a leading
 * dot. NFKD can also grow a name (one "ﷺ" becomes 18 characters), so the result is cut
 * back to 255 bytes like the name itself: the whole header then stays far below what the
 * edge function copies (2048 characters).
 */
export function asciiFallback(name: string): string {
  if (PRINTABLE_ASCII.test(name)) return standIn(name, name);
  // Folded dots read as dots ("Chapter 1… the end.pdf"), unless the stand-in would then
  // end in another extension than the one it has with only the name's own dots
  // ("photo.jpg․exe" would be saved as "photo.jpg.exe" by a client reading `filename=`).
  const strict = standIn(foldStrict(name), name);
  const loose = standIn(fold(name), name);
  return extensionOf(loose) === extensionOf(strict) ? loose : strict;
}

/** `folded` as a stand-in for `name`: printable ASCII, trimmed and cut as the name was. */
function standIn(folded: string, name: string): string {
  const ascii = folded.replace(/[^\x20-\x7e]|["\\%/]/gu, '_').trimStart();
  // Folding that leaves a leading dot ("¨.pdf" → ".pdf") would hide a file that was not hidden.
  const named = ascii.startsWith('.') && !name.startsWith('.') ? `download${ascii}` : ascii;
  return finish(truncate(named, MAX_FILENAME_BYTES)) ?? 'download';
}

/**
 * An RFC 6266 header value with both forms: `filename="<ASCII fallback>"` and
 * `filename*=UTF-8''<percent-encoded>` (RFC 8187, encoded by the `content-disposition` package).
 */
export function contentDisposition(disposition: Disposition, name: string): string {
  return `${disposition}; filename="${asciiFallback(name)}"; filename*=${encodeExtended(name)}`;
}
