/**
 * Character classes of HTTP/1.1 field syntax as 256-entry lookup tables, and the validators built on
 * them: token (RFC 9110 §5.6.2), field-vchar / obs-text and field-value (RFC 9110 §5.5), OWS
 * trimming (RFC 9110 §5.6.3) and quoted-string (RFC 9110 §5.6.4).
 *
 * Validators work on bytes (`start`..`end` of a Buffer) so that a line is checked before it is
 * decoded; each is one table lookup per byte, with no per-character branching on the class.
 */

function table(accept: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const isAlphaNum = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA (RFC 9110 §5.6.2) */
export const TCHAR: Uint8Array = table((b) => isAlphaNum(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)));

/** field-vchar = VCHAR / obs-text (RFC 9110 §5.5); VCHAR is %x21-7E, obs-text is %x80-FF. */
export const FIELD_VCHAR: Uint8Array = table((b) => (b >= 0x21 && b <= 0x7e) || b >= 0x80);

/** Bytes allowed anywhere inside a field value: field-vchar, SP and HTAB (RFC 9110 §5.5). */
export const FIELD_VALUE_CHAR: Uint8Array = table((b) => FIELD_VCHAR[b] === 1 || b === 0x20 || b === 0x09);

/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4) */
export const QDTEXT: Uint8Array = table(
  (b) => b === 0x09 || b === 0x20 || b === 0x21 || (b >= 0x23 && b <= 0x5b) || (b >= 0x5d && b <= 0x7e) || b >= 0x80,
);

/** OWS = *( SP / HTAB ) (RFC 9110 §5.6.3) */
export const isOws = (b: number): boolean => b === 0x20 || b === 0x09;

/** True when every byte of `bytes[start..end)` is in `cls`. */
export function allIn(cls: Uint8Array, bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  for (let i = start; i < end; i++) if (cls[bytes[i]!] === 0) return false;
  return true;
}

/** token = 1*tchar (RFC 9110 §5.6.2) */
export function isToken(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  return end > start && allIn(TCHAR, bytes, start, end);
}

/** A string version of {@link isToken}, for names given by the application. */
export function isTokenString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * field-value = *field-content; field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
 * (RFC 9110 §5.5). The value is checked after OWS trimming, so only the middle bytes remain: NUL,
 * CR, LF and every other CTL except HTAB are rejected here.
 */
export function isFieldValue(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  return allIn(FIELD_VALUE_CHAR, bytes, start, end);
}

/** A string version of {@link isFieldValue} for values given by the application (no CR, LF, NUL). */
export function isFieldValueString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHAR[c] === 0) return false;
  }
  return true;
}

/** Index of the first byte after leading OWS in `bytes[start..end)`. */
export function skipOws(bytes: Uint8Array, start: number, end: number): number {
  while (start < end && isOws(bytes[start]!)) start++;
  return start;
}

/** Index just past the last non-OWS byte in `bytes[start..end)`. */
export function trimOwsEnd(bytes: Uint8Array, start: number, end: number): number {
  while (end > start && isOws(bytes[end - 1]!)) end--;
  return end;
}

/**
 * Length of the quoted-string starting at `bytes[start]` (which must be DQUOTE), or -1 when it is
 * not a well-formed quoted-string: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE,
 * quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) (RFC 9110 §5.6.4).
 */
export function quotedStringLength(bytes: Uint8Array, start: number, end: number): number {
  if (bytes[start] !== 0x22) return -1;
  let i = start + 1;
  while (i < end) {
    const b = bytes[i]!;
    if (b === 0x22) return i + 1 - start;
    if (b === 0x5c) {
      if (i + 1 >= end || FIELD_VALUE_CHAR[bytes[i + 1]!] === 0) return -1;
      i += 2;
    } else if (QDTEXT[b] === 1) {
      i++;
    } else {
      return -1;
    }
  }
  return -1;
}

/** Length of the token starting at `bytes[start]` (0 when there is none). */
export function tokenLength(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && TCHAR[bytes[i]!] === 1) i++;
  return i - start;
}

/** Removes leading and trailing OWS from a string (no regex: `[ \t]+$` backtracks quadratically). */
export function trimOwsString(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return s.slice(start, end);
}

/**
 * Splits a comma-separated list (`#element`, RFC 9110 §5.6.1) into its trimmed, non-empty members.
 * Empty members are dropped, as §5.6.1 asks of recipients.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const member = trimOwsString(part);
    if (member.length > 0) out.push(member);
  }
  return out;
}
