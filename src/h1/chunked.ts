/**
 * The chunked transfer coding (RFC 9112 §7.1): encoder and incremental decoder.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )     (§7.1.1)
 *   trailer-section = *( field-line CRLF )                                           (§7.1.2)
 *
 * The encoder returns pieces for a vectored write: a size-line Buffer (shared between chunks of the
 * same small size), the caller's data unchanged, and a shared CRLF. The decoder returns chunk data as subarrays of its input (no copy),
 * gives the same result for any split of the input, and rejects (H1Error) rather than guesses:
 * bare LF/CR line ends, a size that is not plain hex or too large, malformed extensions, missing
 * CRLF after the data, and bodies over `maxBodyBytes` (413).
 *
 * Trailer fields that must not travel in a trailer (RFC 9110 §6.5.1: framing, routing, request
 * modifiers, authentication, response control, content format) are rejected with 400 on receipt
 * rather than silently dropped: a sender that puts Content-Length or Host in a trailer is either
 * broken or probing for a proxy that merges trailers into the header section (RFC 9110 §6.5.2),
 * and the encoder refuses to generate them for the same reason.
 */
import { H1Error } from '../core/errors.js';
import { FORBIDDEN_TRAILERS } from '../core/headers.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { FieldSectionReader, type FieldList } from './parse/fields.js';
import { LineReader, toBuffer } from './parse/lines.js';
import { isFieldValueString, isTokenString, quotedStringLength, skipOws, tokenLength, trimOwsString } from './syntax.js';

/** CRLF, shared by every encoded chunk: do not write into it. */
export const CRLF: Buffer = Buffer.from('\r\n', 'latin1');

export { FORBIDDEN_TRAILERS };

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

/** The last chunk with no trailer section, shared: do not write into it (RFC 9112 §7.1). */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

/** The CRLF that ends a data chunk followed by the last chunk without trailers, shared: do not write into it. */
export const CRLF_LAST_CHUNK: Buffer = Buffer.from('\r\n0\r\n\r\n', 'latin1');

/**
 * Size lines for the chunk sizes a streaming response flushes most (small ones), made on first use
 * and shared afterwards: a flush then costs no allocation for its size line. Bounded by the range.
 */
const CACHED_SIZE_LINES = 8192;
const sizeLines: (Buffer | undefined)[] = [];

/**
 * The line that opens a chunk of `size` bytes: hex size and CRLF (RFC 9112 §7.1). The Buffer may
 * be shared with other chunks of the same size: do not write into it.
 */
export function chunkHeader(size: number): Buffer {
  if (size > 0 && size < CACHED_SIZE_LINES && Number.isInteger(size)) {
    return (sizeLines[size] ??= Buffer.from(`${size.toString(16)}\r\n`, 'latin1'));
  }
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  return Buffer.from(`${size.toString(16)}\r\n`, 'latin1');
}

/**
 * Encodes one chunk holding `data` (one piece or several, sent as one chunk): returns
 * [size line, ...data, CRLF] for a vectored write, the data pieces unchanged. Empty data gives
 * no pieces at all: a zero-size chunk would be read as the last chunk (RFC 9112 §7.1).
 */
export function encodeChunk(data: Uint8Array | readonly Uint8Array[]): Uint8Array[] {
  const pieces = data instanceof Uint8Array ? [data] : data.filter((piece) => piece.length > 0);
  let size = 0;
  for (const piece of pieces) size += piece.length;
  if (size === 0) return [];
  return [chunkHeader(size), ...pieces, CRLF];
}

/**
 * The last chunk and the trailer section: `0\r\n`, each trailer as `name: value\r\n`, `\r\n`
 * (RFC 9112 §7.1, §7.1.2). Throws TypeError for an invalid or forbidden trailer field, so a bad
 * value can never split the message (RFC 9110 §5.5, §6.5.1). Without trailers the shared
 * {@link LAST_CHUNK} is returned: do not write into it.
 */
export function encodeLastChunk(trailers?: Iterable<readonly [string, string]>): Buffer {
  if (trailers === undefined) return LAST_CHUNK;
  let text = '0\r\n';
  for (const [name, value] of trailers ?? []) {
    if (!isTokenString(name)) throw new TypeError(`invalid trailer field name ${JSON.stringify(name)}`);
    if (FORBIDDEN_TRAILERS.has(name.toLowerCase())) throw new TypeError(`"${name}" is not allowed in a trailer section`);
    if (!isFieldValueString(value)) throw new TypeError(`invalid value for trailer field "${name}"`);
    text += `${name}: ${trimOwsString(value)}\r\n`;
  }
  return Buffer.from(`${text}\r\n`, 'latin1');
}

/** Same as {@link encodeLastChunk}; the name the connection code uses. */
export const lastChunk = encodeLastChunk;

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

/** What one push() produced. */
export interface DecodedBody {
  /** Chunk data, in order, as subarrays of the pushed bytes. */
  data: Buffer[];
  /** True once the last chunk and the trailer section have been read. */
  done: boolean;
  /** Trailer fields (lower-case names), set when `done`; empty otherwise. */
  trailers: FieldList;
  /** Bytes of this push that belong to the body (all of them unless `done`). */
  consumed: number;
  /** Bytes of this push after the end of the body (the next message), when `done`. */
  rest: Buffer;
}

type State = 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailers' | 'done';

const HEX_DIGITS_MAX = 16;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

export type ChunkedLimits = Pick<Limits, 'maxChunkLineBytes' | 'maxBodyBytes' | 'maxHeaderBytes' | 'maxHeaderCount'>;

/**
 * Incremental decoder of a chunked message body. push() takes bytes in any split and returns the
 * data found; errors are H1Error (400, 413, 431) and leave the decoder failed. `badStatus` is 400
 * for request bodies (server side); a client decoding a response passes 502.
 */
export class ChunkedDecoder {
  private readonly limits: ChunkedLimits;
  private readonly lines = new LineReader();
  private state: State = 'size';
  /** Bytes still to read in the current chunk. */
  private remaining = 0;
  /** Sum of chunk sizes so far (for maxBodyBytes). */
  private total = 0;
  private trailerReader: FieldSectionReader | null = null;
  private failure: H1Error | null = null;

  constructor(limits?: Partial<Limits>, private readonly badStatus = 400) {
    this.limits = resolveLimits(limits);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Data bytes decoded so far. */
  get bodyBytes(): number {
    return this.total - this.remaining;
  }

  push(bytes: Uint8Array): DecodedBody {
    if (this.failure !== null) throw this.failure;
    const input = toBuffer(bytes);
    const data: Buffer[] = [];
    try {
      const end = this.run(input, data);
      return {
        data,
        done: this.state === 'done',
        trailers: this.state === 'done' ? this.trailerReader!.fields : [],
        consumed: end,
        rest: end < input.length ? input.subarray(end) : EMPTY,
      };
    } catch (error) {
      if (error instanceof H1Error) this.failure = error;
      this.lines.clear();
      throw error;
    }
  }

  /**
   * The connection ended (EOF). A chunked body cut before its last chunk is incomplete
   * (RFC 9112 §8): throws H1Error.
   */
  end(): void {
    if (this.state !== 'done') throw this.bad('connection closed inside a chunked body', 'RFC 9112 §8');
  }

  /** Decodes from `input` into `data`; returns the offset where the body ended (or input.length). */
  private run(input: Buffer, data: Buffer[]): number {
    let pos = 0;
    while (pos < input.length) {
      switch (this.state) {
        case 'size': {
          const next = this.lines.next(input, pos, this.limits.maxChunkLineBytes, this.sizeLineTooLong);
          if (next === -1) return input.length;
          pos = next;
          this.sizeLine(this.lines.buffer, this.lines.start, this.lines.end);
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, input.length - pos);
          data.push(input.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
        case 'data-lf': {
          // RFC 9112 §7.1: chunk-data is followed by exactly CRLF; anything else means the size
          // lied, and guessing where the next chunk starts is how bodies get smuggled.
          const want = this.state === 'data-cr' ? CR : LF;
          if (input[pos] !== want) throw this.bad('chunk data not followed by CRLF', 'RFC 9112 §7.1');
          pos++;
          this.state = this.state === 'data-cr' ? 'data-lf' : 'size';
          break;
        }
        case 'trailers': {
          const reader = this.trailerReader!;
          const next = this.lines.next(input, pos, reader.maxNextLine, reader.tooLarge);
          if (next === -1) return input.length;
          pos = next;
          if (reader.line(this.lines.buffer, this.lines.start, this.lines.end)) {
            this.checkTrailers(reader.fields);
            this.state = 'done';
            return pos;
          }
          break;
        }
        case 'done':
          return pos;
      }
    }
    return pos;
  }

  /** chunk-size [ chunk-ext ] (RFC 9112 §7.1, §7.1.1). */
  private sizeLine(line: Buffer, start: number, end: number): void {
    const digits = hexDigitCount(line, start, end);
    if (digits === 0) throw this.bad('chunk-size is not hexadecimal', 'RFC 9112 §7.1');
    // RFC 9112 §7.1: "anticipate potentially large hexadecimal numerals and prevent parsing errors
    // due to integer conversion overflows or precision loss".
    if (digits > HEX_DIGITS_MAX) throw this.bad('chunk-size has more than 16 hex digits', 'RFC 9112 §7.1');
    const size = parseInt(line.toString('latin1', start, start + digits), 16);
    if (!Number.isSafeInteger(size)) throw this.bad('chunk-size too large', 'RFC 9112 §7.1');
    const after = line[start + digits];
    if (start + digits < end && after !== 0x3b && after !== 0x20 && after !== 0x09) {
      throw this.bad('chunk-size is not hexadecimal', 'RFC 9112 §7.1');
    }
    if (!validChunkExtensions(line, start + digits, end)) throw this.bad('malformed chunk extension', 'RFC 9112 §7.1.1');
    if (this.total + size > this.limits.maxBodyBytes) {
      throw new H1Error(413, `chunked body larger than ${this.limits.maxBodyBytes} bytes`, 'RFC 9110 §15.5.14');
    }
    this.total += size;
    this.remaining = size;
    if (size > 0) {
      this.state = 'data';
    } else {
      this.state = 'trailers';
      this.trailerReader = new FieldSectionReader({
        maxBytes: this.limits.maxHeaderBytes,
        maxCount: this.limits.maxHeaderCount,
        obsFold: 'reject',
        kind: 'trailer',
        badStatus: this.badStatus,
      });
    }
  }

  /** RFC 9112 §7.1.1: a server ought to limit chunk extensions and answer with a 4xx. */
  private readonly sizeLineTooLong = (): H1Error =>
    this.bad(`chunk-size line longer than ${this.limits.maxChunkLineBytes} bytes`, 'RFC 9112 §7.1.1');

  private checkTrailers(fields: FieldList): void {
    for (const [name] of fields) {
      if (FORBIDDEN_TRAILERS.has(name)) {
        throw this.bad(`"${name}" is not allowed in a trailer section`, 'RFC 9110 §6.5.1');
      }
    }
  }

  private bad(message: string, section: string): H1Error {
    return new H1Error(this.badStatus, message, section);
  }
}

/** Number of HEXDIG bytes at the start of `line[start..end)`. */
function hexDigitCount(line: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && isHexDigit(line[i]!)) i++;
  return i - start;
}

function isHexDigit(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

/**
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
 * chunk-ext-name = token, chunk-ext-val = token / quoted-string (RFC 9112 §7.1.1).
 * Extensions are checked and then ignored ("A recipient MUST ignore unrecognized chunk extensions").
 * Whitespace is only allowed around ";" and "=", so "5 \r\n" (trailing SP) is invalid.
 */
export function validChunkExtensions(line: Buffer, from: number, end = line.length): boolean {
  let pos = from;
  while (pos < end) {
    let i = skipOws(line, pos, end);
    if (line[i] !== 0x3b /* ";" */) return false;
    i = skipOws(line, i + 1, end);
    const name = tokenLength(line, i, end);
    if (name === 0) return false;
    i += name;
    pos = i;
    const eq = skipOws(line, i, end);
    if (line[eq] === 0x3d /* "=" */) {
      const v = skipOws(line, eq + 1, end);
      const value = line[v] === 0x22 ? quotedStringLength(line, v, end) : tokenLength(line, v, end);
      if (value <= 0) return false;
      pos = v + value;
    }
  }
  return true;
}
