/**
 * A field section (header section of a head, or trailer section of a chunked body) read one line
 * at a time: field-line syntax (RFC 9112 §5), obs-fold (RFC 9112 §5.2), whitespace before the
 * first field (RFC 9112 §2.2), and the size and count limits (RFC 6585 §5: 431).
 *
 * Names are returned in lower case (field names are case-insensitive, RFC 9110 §5.1), values with
 * leading and trailing OWS removed (RFC 9112 §5), decoded as latin1 so that obs-text bytes survive
 * one to one. Order and repeats are kept.
 */
import { H1Error } from '../../core/errors.js';
import { isFieldValue, isOws, isToken, skipOws, trimOwsEnd } from '../syntax.js';
import { fieldNameOf } from './field-names.js';

export type FieldList = [name: string, value: string][];

export interface FieldSectionOptions {
  /** Most bytes of field lines, CRLFs included; more → 431. */
  maxBytes: number;
  /** Most field lines; more → 431. */
  maxCount: number;
  /**
   * What to do with obs-fold (a line starting with SP or HTAB). A server MUST reject it or replace
   * it with SP in a request; a user agent MUST replace it in a response (RFC 9112 §5.2).
   */
  obsFold: 'reject' | 'replace';
  /** 'header' or 'trailer', for error messages. */
  kind: string;
  /** Status used for a malformed line: 400 for requests; the client side passes 502. */
  badStatus?: number;
}

export class FieldSectionReader {
  fields: FieldList = [];
  /** Bytes of field lines read so far, each with its CRLF. */
  bytes = 0;
  private readonly badStatus: number;

  constructor(private readonly options: FieldSectionOptions) {
    this.badStatus = options.badStatus ?? 400;
  }

  /** Starts the next section (one reader serves every head on a connection): `fields` is a new list. */
  reset(): void {
    this.fields = [];
    this.bytes = 0;
  }

  /** Longest next line (CRLF excluded) that keeps the section within `maxBytes`. */
  get maxNextLine(): number {
    return Math.max(0, this.options.maxBytes - this.bytes - 2);
  }

  /** The error for a section that outgrew `maxBytes` (RFC 6585 §5); bound, to pass as a callback. */
  readonly tooLarge = (): H1Error =>
    new H1Error(431, `${this.options.kind} section larger than ${this.options.maxBytes} bytes`, 'RFC 6585 §5');

  /**
   * Takes one line, `line[start..end)` without its CRLF. Returns true when it was the empty line
   * that ends the section. Throws H1Error for a malformed line or a broken limit.
   */
  line(line: Buffer, start: number, end: number): boolean {
    if (end === start) return true;
    this.bytes += end - start + 2;
    if (this.bytes > this.options.maxBytes) throw this.tooLarge();

    if (isOws(line[start]!)) {
      this.continuation(line, start, end);
      return false;
    }
    if (this.fields.length >= this.options.maxCount) {
      throw new H1Error(431, `more than ${this.options.maxCount} ${this.options.kind} fields`, 'RFC 6585 §5');
    }
    this.fields.push(this.fieldLine(line, start, end));
    return false;
  }

  /** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5) */
  private fieldLine(line: Buffer, lineStart: number, lineEnd: number): [string, string] {
    const colon = line.indexOf(0x3a, lineStart);
    if (colon === lineStart) throw this.bad('empty field name', 'RFC 9112 §5');
    if (colon === -1 || colon >= lineEnd) throw this.bad('field line without a colon', 'RFC 9112 §5');
    // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon" — a server MUST
    // reject it with 400, since proxies disagree on whether "Name :" is "Name".
    if (isOws(line[colon - 1]!)) throw this.bad('whitespace between field name and colon', 'RFC 9112 §5.1');
    if (!isToken(line, lineStart, colon)) throw this.bad('field name is not a token', 'RFC 9110 §5.1');
    const start = skipOws(line, colon + 1, lineEnd);
    const end = trimOwsEnd(line, start, lineEnd);
    // RFC 9110 §5.5: NUL, CR, LF and other CTLs (except HTAB) are invalid in a field value.
    if (!isFieldValue(line, start, end)) throw this.invalidValue(line, start, end);
    return [fieldNameOf(line, lineStart, colon), line.toString('latin1', start, end)];
  }

  /** A line that starts with SP/HTAB: obs-fold, or whitespace before the first field. */
  private continuation(line: Buffer, lineStart: number, lineEnd: number): void {
    const previous = this.fields[this.fields.length - 1];
    if (previous === undefined) {
      // RFC 9112 §2.2: whitespace between the start-line and the first field MUST be rejected or
      // the line consumed unprocessed; we reject (a proxy might read it as a field of its own).
      throw this.bad(`whitespace before the first ${this.options.kind} field`, 'RFC 9112 §2.2');
    }
    if (this.options.obsFold === 'reject') {
      throw this.bad('obsolete line folding (obs-fold)', 'RFC 9112 §5.2');
    }
    const start = skipOws(line, lineStart, lineEnd);
    const end = trimOwsEnd(line, start, lineEnd);
    if (!isFieldValue(line, start, end)) throw this.invalidValue(line, start, end);
    // RFC 9112 §5.2: a user agent replaces each obs-fold with one or more SP.
    const more = line.toString('latin1', start, end);
    if (more.length > 0) previous[1] = previous[1].length > 0 ? `${previous[1]} ${more}` : more;
  }

  private invalidValue(line: Buffer, start: number, end: number): H1Error {
    const cr = line.indexOf(0x0d, start);
    // RFC 9112 §2.2: "A recipient of such a bare CR MUST consider that element to be invalid".
    if (cr !== -1 && cr < end) return this.bad('bare CR in field line', 'RFC 9112 §2.2');
    return this.bad('invalid character in field value', 'RFC 9110 §5.5');
  }

  private bad(message: string, section: string): H1Error {
    return new H1Error(this.badStatus, message, section);
  }
}
