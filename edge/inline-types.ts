// Which content types a browser may show in the page: one rule for the route that signs a
// URL `inline` and the viewer-response function that serves it, so an object overwritten
// after signing (a PNG become HTML) is still served as an attachment.

/**
 * Types a browser shows inline without running anything the file holds: PDF, images (SVG
 * aside: it is XML with scripts), audio, video, plain text. A `/files/*` URL shares its
 * origin with `/d/*` and the token cookie, so an HTML, SVG or XML file shown inline would
 * run its scripts as Signet's own page; a type missing or unknown would be sniffed, maybe
 * as HTML.
 */
const SHOWN_INLINE = /^(?:application\/pdf|(?:image|audio|video)\/[\w.+-]+|text\/(?:plain|csv))$/;
const XML = /\+xml$/;
/** HTTP's white space only (RFC 9110 §5.6.3): a browser takes no other, and would sniff. */
const PADDING = /^[ \t]+|[ \t]+$/g;

/**
 * Whether a `Content-Type` value is one to show inline. Its essence (RFC 9110 §8.3.1)
 * decides: parameters, such as a charset, do not count. A value holding a comma never is:
 * a browser reads `image/png;,text/html` as its last type, HTML.
 */
export function shownInline(contentType: string | undefined): boolean {
  if (typeof contentType !== 'string' || contentType.indexOf(',') !== -1) return false;
  const essence = (contentType.split(';')[0] || '').replace(PADDING, '').toLowerCase();
  return SHOWN_INLINE.test(essence) && !XML.test(essence);
}
