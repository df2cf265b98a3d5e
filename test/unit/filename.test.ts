import { decodeExtended, parse } from 'content-disposition';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../api/core/errors.ts';
import {
  asciiFallback,
  contentDisposition,
  decodeMetadataValue,
  resolveFilename,
  sanitizeFilename,
} from '../../api/core/filename.ts';

const bytes = (value: string) => Buffer.byteLength(value, 'utf8');
const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

describe('sanitizeFilename', () => {
  it.each([
    ['a plain name', 'report.pdf', 'report.pdf'],
    ['a POSIX path', 'a/b/c.txt', 'c.txt'],
    ['a Windows path', 'C:\\Users\\x\\y.txt', 'y.txt'],
    ['a climbing path', '../../etc/passwd', 'passwd'],
    ['CR and LF', 'a\r\nb.txt', 'ab.txt'],
    ['NUL, TAB, DEL and C1', 'a\u0000b\tc\u007fd\u0085.txt', 'abcd.txt'],
    ['a right-to-left override', 'invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['bidi isolates and marks', '\u2066a\u2069\u200e\u200f\u061cb.txt', 'ab.txt'],
    ['decomposed accents (NFD)', 'e\u0301te\u0301.txt', 'été.txt'],
    ['surrounding spaces', '  spaced.txt  ', 'spaced.txt'],
    ['trailing dots and spaces', 'name. . ', 'name'],
    ['inner dots', 'a..b.tar.gz', 'a..b.tar.gz'],
    ['emoji', '🎉 party.png', '🎉 party.png'],
    ['CJK', '報告書.pdf', '報告書.pdf'],
  ])('cleans %s', (_, raw, expected) => {
    // Act
    const name = sanitizeFilename(raw);

    // Assess
    expect(name).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['spaces only', '   '],
    ['"."', '.'],
    ['".."', '..'],
    ['a directory', 'folder/'],
    ['control characters only', '\r\n\u0000'],
    ['a bidi override only', '\u202e'],
    ['a lone surrogate', 'a\ud800.txt'],
  ])('finds nothing usable in %s', (_, raw) => {
    // Act
    const name = sanitizeFilename(raw);

    // Assess
    expect(name).toBeUndefined();
  });

  it.each([
    ['ASCII', `${'a'.repeat(296)}.pdf`],
    ['3-byte characters', `${'€'.repeat(300)}.pdf`],
    ['4-byte characters', `${'😀'.repeat(300)}.pdf`],
    ['mixed widths', `${'a€😀'.repeat(100)}.pdf`],
  ])('truncates a 300-character name in %s to 255 UTF-8 bytes, keeping the extension', (_, raw) => {
    // Act
    const name = sanitizeFilename(raw) ?? '';

    // Assess
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(bytes(name)).toBeGreaterThan(240);
    expect(name.endsWith('.pdf')).toBe(true);
    expect(name.isWellFormed()).toBe(true);
    expect(raw.startsWith(name.slice(0, -4))).toBe(true);
  });
});

describe('truncation and the extension', () => {
  it.each([
    ['.docx', true],
    ['.jpeg', true],
    [`.${'x'.repeat(15)}`, true], // 16 characters with the dot: the longest kept
    [`.${'x'.repeat(16)}`, false], // 17: part of the name, cut like the rest
  ])('keeps %s at the end of a name cut to 255 bytes: %s', (ext, kept) => {
    // Act
    const name = sanitizeFilename(`${'a'.repeat(300)}${ext}`) ?? '';

    // Assess
    expect(bytes(name)).toBe(255);
    expect(name.endsWith(ext)).toBe(kept);
  });
});

describe('decodeMetadataValue', () => {
  it.each([
    ['plain ASCII', 'report.pdf', 'report.pdf'],
    ['RFC 2047 B', `=?UTF-8?B?${b64('Rapport été 報告.pdf')}?=`, 'Rapport été 報告.pdf'],
    ['RFC 2047 b, lower case', `=?utf-8?b?${b64('naïve.txt')}?=`, 'naïve.txt'],
    ['RFC 2047 Q', '=?UTF-8?Q?Rapport_=C3=A9t=C3=A9.pdf?=', 'Rapport été.pdf'],
    ['RFC 2047 q, lower-case hex', '=?utf-8?q?caf=c3=a9.txt?=', 'café.txt'],
    ['RFC 2047 Q with a literal "%"', '=?UTF-8?Q?100%_s=C3=BBr.txt?=', '100% sûr.txt'],
    ['RFC 2047 Q with "%41" literally', '=?UTF-8?Q?%41.txt?=', '%41.txt'],
    ['another charset (left alone)', '=?ISO-8859-1?Q?caf=E9.txt?=', '=?ISO-8859-1?Q?caf=E9.txt?='],
  ])('decodes %s', (_, raw, expected) => {
    // Act
    const value = decodeMetadataValue(raw);

    // Assess
    expect(value).toBe(expected);
  });
});

describe('resolveFilename', () => {
  it('prefers the filename parameter over metadata and key', () => {
    // Act
    const name = resolveFilename({ requested: 'asked.pdf', metadata: 'meta.pdf', key: 'public/key.pdf' });

    // Assess
    expect(name).toBe('asked.pdf');
  });

  it('uses the metadata without a parameter', () => {
    // Act
    const name = resolveFilename({ metadata: 'meta.pdf', key: 'public/key.pdf' });

    // Assess
    expect(name).toBe('meta.pdf');
  });

  it.each([
    ['B', `=?UTF-8?B?${b64('Übersicht 2024.pdf')}?=`],
    ['Q', '=?UTF-8?Q?=C3=9Cbersicht_2024.pdf?='],
  ])('decodes RFC 2047 %s-encoded metadata', (_, metadata) => {
    // Act
    const name = resolveFilename({ metadata, key: 'public/key.pdf' });

    // Assess
    expect(name).toBe('Übersicht 2024.pdf');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['unusable', '..'],
    ['a lone surrogate', '\ud800'],
  ])('falls back to the key when the metadata is %s', (_, metadata) => {
    // Act
    const name = resolveFilename({ metadata, key: 'public/reports/key name.pdf' });

    // Assess
    expect(name).toBe('key name.pdf');
  });

  it('sanitizes the metadata like a parameter', () => {
    // Act
    const name = resolveFilename({ metadata: '../../x/evil\r\n\u202Efdp.exe', key: 'public/key.pdf' });

    // Assess
    expect(name).toBe('evilfdp.exe');
  });

  it.each([
    ['empty', ''],
    ['"."', '.'],
    ['".."', '..'],
    ['a path without a name', 'a/b/'],
    ['control characters only', '\r\n'],
    ['a lone surrogate', 'x\udfff.pdf'],
    ['1025 UTF-8 bytes', 'a'.repeat(1025)],
    ['342 × "€" (1026 bytes)', '€'.repeat(342)],
  ])('rejects a filename parameter that is %s', (_, requested) => {
    // Act
    const resolve = () => resolveFilename({ requested, metadata: 'meta.pdf', key: 'public/key.pdf' });

    // Assess
    expect(resolve).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it.each([
    ['path parts dropped', 'C:\\temp\\../x/final.pdf', 'final.pdf'],
    ['CR/LF removed', 'a\r\nSet-Cookie: x.pdf', 'aSet-Cookie: x.pdf'],
    ['bidi override removed', 'photo\u202Egnp.exe', 'photognp.exe'],
  ])('sanitizes the filename parameter: %s', (_, requested, expected) => {
    // Act
    const name = resolveFilename({ requested, key: 'public/key.pdf' });

    // Assess
    expect(name).toBe(expected);
  });

  it('accepts a 1024-byte parameter and truncates it to 255 bytes, keeping the extension', () => {
    // Prepare
    const requested = `${'n'.repeat(1020)}.csv`;

    // Act
    const name = resolveFilename({ requested, key: 'public/key.pdf' });

    // Assess
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(name.endsWith('.csv')).toBe(true);
  });
});

/**
 * Names that trip Content-Disposition writers and parsers, each with its ASCII fallback written
 * out by hand: accents folded (NFKD minus combining marks); any other character outside
 * printable ASCII, and `"`, `\`, `%` and `/`, becomes `_` (one per code point).
 */
const CORPUS: readonly (readonly [name: string, fallback: string])[] = [
  ['plain.pdf', 'plain.pdf'],
  ['annual report 2024.pdf', 'annual report 2024.pdf'],
  ['say "hi".txt', 'say _hi_.txt'],
  ['star*.txt', 'star*.txt'],
  ["it's.txt", "it's.txt"],
  ['100% done.txt', '100_ done.txt'],
  ['%41%20literal.txt', '_41_20literal.txt'],
  ['🎉 party.png', '_ party.png'],
  ['報告書.pdf', '___.pdf'],
  ['a;b=c.txt', 'a;b=c.txt'],
  ['back\\slash.txt', 'back_slash.txt'],
  ['Ünïcödé naïve.txt', 'Unicode naive.txt'],
  ['mix \'é\' "😀" ; * % \\.bin', "mix 'e' ___ ; * _ _.bin"],
  ['tab\tand,comma(paren)[br]{cu}<lt>@at?.txt', 'tab_and,comma(paren)[br]{cu}<lt>@at?.txt'],
];

describe('contentDisposition', () => {
  it.each(CORPUS)('writes both forms and round-trips %j', (name, fallback) => {
    // Act
    const header = contentDisposition('attachment', name);

    // Assess
    expect(header).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''[^\s"]+$/);
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.split('"')).toHaveLength(3);
    const raw = parse(header, { extended: false });
    expect(raw.type).toBe('attachment');
    expect(raw.parameters.filename).toBe(fallback);
    expect(raw.parameters.filename).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeExtended(raw.parameters['filename*'] ?? '')).toBe(name);
    expect(parse(header).parameters.filename).toBe(name);
  });

  it.each(['inline', 'attachment'] as const)('writes the %s type', (disposition) => {
    // Act
    const header = contentDisposition(disposition, 'a.pdf');

    // Assess
    expect(parse(header).type).toBe(disposition);
  });

  it.each([
    ['accents', 'Ünïcödé.txt', 'Unicode.txt'],
    ['quotes and backslash', 'a"b\\c.txt', 'a_b_c.txt'],
    ['percent', '100%.txt', '100_.txt'],
    ['CJK', '報告.pdf', '__.pdf'],
    ['an astral emoji', '😀.png', '_.png'],
    // NFKD folds fullwidth "／" and "．" into "/" and ".": no path may come out.
    ['a fullwidth path', '．．／．．／.bashrc', 'download.._.._.bashrc'],
    ['a fullwidth absolute path', '／etc／passwd', '_etc_passwd'],
    ['a fullwidth backslash', 'C：＼Windows＼x.ini', 'C:_Windows_x.ini'],
    // Folding can leave dots, a trailing space or nothing: trimmed, and "download" if empty.
    ['two fullwidth dots', '．．', 'download'],
    ['one fullwidth dot', '．', 'download'],
    ['a two-dot leader', '‥', 'download'],
    ['an ellipsis', '…', 'download'],
    ['a name ending in a fullwidth dot', 'report．', 'report'],
    ['combining marks alone', '\u0301\u0302', 'download'],
    ['a name ending in a space once folded', 'report\u3000', 'report'],
    ['a name starting with a space once folded', '¨report.pdf', 'report.pdf'],
    ['a name that folds to its extension alone', '¨.pdf', 'download.pdf'],
    ['a name starting with a fullwidth dot', '．pdf', '_pdf'],
    // A dot folding makes of another character is "_" where it would give the stand-in an
    // extension the name does not have; before the name's own extension it stays a dot.
    ['a one-dot leader before another extension', 'photo.jpg\u2024exe', 'photo.jpg_exe'],
    ['a fullwidth name and extension', 'ｅｖｉｌ．ｅｘｅ', 'evil_exe'],
    ['an ellipsis before the extension', 'Chapter 1… the end.pdf', 'Chapter 1... the end.pdf'],
    ['a numbered item before the extension', '⒈ Intro.pdf', '1. Intro.pdf'],
    ['an ellipsis at the end', 'Notes…', 'Notes'],
    // ...and wherever the name's own last dot would not stay the last one.
    ['a folded dot before a real one with nothing after it', 'photo\u2024exe.\u0301', 'photo_exe'],
    ['a folded dot before an ellipsis', 'photo.exe…', 'photo.exe___'],
    ['a unit folding to letters and dots', 'photo㏂', 'photoa_m_'],
    ['numbers with dots', 'report ⒈⒉', 'report 1_2_'],
    ['a hidden name, kept hidden', '.bashrc', '.bashrc'],
  ])('folds %s into the ASCII fallback', (_, name, fallback) => {
    // Act
    const value = asciiFallback(name);

    // Assess
    expect(value).toBe(fallback);
  });

  // NFKD turns one "ﷺ" (3 bytes) into 18 letters and spaces: 85 of them made 1530.
  it.each([
    ['ﷺ'.repeat(85), ''],
    [`${'ﷺ'.repeat(83)}.pdf`, '.pdf'],
  ])('cuts a fallback NFKD grew back to 255 characters, extension kept (%#)', (name, ext) => {
    // Act
    const value = asciiFallback(name);

    // Assess
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name.normalize('NFKD').length).toBeGreaterThan(1000);
    expect(value).toHaveLength(255);
    expect(value.slice(0, 255 - ext.length)).toMatch(/^[_ ]+$/);
    expect(value.endsWith(ext)).toBe(true);
  });
});

describe('names that come out of folding or cutting with nothing usable left', () => {
  it('puts "download" in filename= when the fallback folds to nothing, and keeps the real name in filename*', () => {
    // Act
    const header = contentDisposition('attachment', '\u0301\u0302');

    // Assess
    expect(header).toBe(`attachment; filename="download"; filename*=UTF-8''%CC%81%CC%82`);
  });

  it.each([
    ['a zero-width space', 'x\u200b.txt', 'x.txt'],
    ['a soft hyphen and a byte-order mark', 'in\u00advoice\ufeff.pdf', 'invoice.pdf'],
    ['a line separator', 'a\u2028b.txt', 'ab.txt'],
    ['a noncharacter', 'a\uffffb.txt', 'ab.txt'],
    ['the joiners emoji need, kept', '👨\u200d👩\u200d👧.png', '👨\u200d👩\u200d👧.png'],
    ['a tag character outside a flag', 'a\u{e0067}b.txt', 'ab.txt'],
    ['a Hangul filler and a Mongolian vowel separator', 'a\u3164b\u180ec.txt', 'abc.txt'],
    [
      'the tags of a subdivision flag, kept',
      '🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}.png',
      '🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}.png',
    ],
    ['an Arabic end-of-ayah sign, kept', '\u06dd\u0661.pdf', '\u06dd\u0661.pdf'],
    ['a bidi override that would leave a dotfile', '\u202e.pdf', 'download.pdf'],
    ['a separator that would leave a dotfile', '\u2028.pdf', 'download.pdf'],
    ['a space trimmed off a dotfile', ' .pdf', 'download.pdf'],
    ['a dotfile asked for, kept', '.htaccess', '.htaccess'],
  ])('drops what hides or disguises part of a name: %s', (_, requested, expected) => {
    // Act
    const name = resolveFilename({ requested, key: 'public/a.pdf' });

    // Assess
    expect(name).toBe(expected);
  });

  it('keeps the dots of a long name far from its cut', () => {
    // Act
    const name = resolveFilename({ requested: `Meeting 2024.01.15 ${'x'.repeat(300)}`, key: 'public/a.pdf' });

    // Assess
    expect(name.startsWith('Meeting 2024.01.15 x')).toBe(true);
  });

  it('never leaves a new extension where a cut ends in spaces', () => {
    // Act
    const name = resolveFilename({
      requested: `${'x'.repeat(230)}.exe${' '.repeat(30)}${'y'.repeat(20)}`,
      key: 'a',
    });

    // Assess
    expect(name).toBe(`${'x'.repeat(230)}_exe`);
  });

  it('never leaves a new extension where a cut drops one too long to keep', () => {
    // Prepare: 275 bytes; the last extension (21 characters) is over the 16 kept.
    const requested = `${'a'.repeat(250)}.exe.${'z'.repeat(20)}`;

    // Act
    const name = resolveFilename({ requested, key: 'public/a.pdf' });

    // Assess
    expect(name).toBe(`${'a'.repeat(250)}_exe`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
  });

  it.each([
    ['one grapheme cluster over 255 bytes', `a${'\u0301'.repeat(200)}`],
    ['one cluster over 255 bytes before an extension', `a${'\u0301'.repeat(200)}.pdf`],
    ['one emoji ZWJ sequence over 255 bytes', `${'👍\u200d'.repeat(40)}👍`],
  ])('refuses a requested name that is %s with 400 (nothing of it fits)', (_, requested) => {
    // Act
    const resolve = () => resolveFilename({ requested, key: 'public/a.pdf' });

    // Assess
    expect(resolve).toThrow(BadRequestError);
  });

  it('skips metadata whose name cuts down to its extension alone, for the key', () => {
    // Act
    const name = resolveFilename({ metadata: `a${'\u0301'.repeat(200)}.pdf`, key: 'public/a.pdf' });

    // Assess
    expect(name).toBe('a.pdf');
  });

  it('never leaves a trailing space or dot where the cut falls', () => {
    // Prepare: 254 letters, a space, then a 2-byte letter: the cut falls after the space.
    const requested = `${'a'.repeat(254)} é`;

    // Act
    const name = resolveFilename({ requested, key: 'k' });

    // Assess
    expect(name).toBe('a'.repeat(254));
  });
});

describe('truncation keeps grapheme clusters whole', () => {
  it('never cuts a family emoji in half', () => {
    // Prepare: 👨‍👩‍👧‍👦 is 25 UTF-8 bytes; 11 of them overflow 255 bytes.
    const family = '👨‍👩‍👧‍👦';
    const name = `${family.repeat(11)}.txt`;

    // Act
    const result = sanitizeFilename(name) ?? '';

    // Assess
    expect(Buffer.byteLength(result, 'utf8')).toBeLessThanOrEqual(255);
    expect(result.endsWith('.txt')).toBe(true);
    expect(result.slice(0, -4)).toBe(family.repeat(10));
  });
});

describe('decodeMetadataValue: several RFC 2047 encoded words', () => {
  it.each([
    ['two B words', '=?UTF-8?B?w5xiZXJibGljayA=?= =?UTF-8?B?5aCx5ZGKLnBkZg==?=', 'Überblick 報告.pdf'],
    ['a B word and a Q word', '=?UTF-8?B?w5xiZXI=?=\r\n =?UTF-8?Q?blick=2Epdf?=', 'Überblick.pdf'],
    ['plain text that merely contains =?', 'report =?x.pdf', 'report =?x.pdf'],
    ['a word that does not decode makes the whole value unusable', '=?UTF-8?B?w5xi?= =?UTF-8?Q?=E2=28?=', ''],
    ['a B word whose bytes are not UTF-8', '=?UTF-8?B?////?=', ''],
    ['a B word cut inside a character', '=?UTF-8?B?ww==?=', ''],
    ['a B word with a character outside base64', '=?UTF-8?B?w5xi*?=', ''],
    ['a B word with its padding missing', '=?UTF-8?B?w5xiZQ?=', ''],
  ])('%s', (_name, raw, expected) => {
    expect(decodeMetadataValue(raw)).toBe(expected);
  });
});
