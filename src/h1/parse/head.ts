/**
 * Incremental parsers for a message head: start-line, field lines, empty line (RFC 9112 §2.1).
 *
 * Bytes go in by `push()` in any split; once the head is complete `push()` returns it together with
 * the bytes that followed it in that push (`rest`: the start of the body, or of the next pipelined
 * request), and the parser is ready for the next head. Partial input is bounded by the limits:
 * at most one partial line is held, and it can never outgrow the start-line or header budget.
 * A parser that threw stays failed and throws the same error again.
 *
 * Limits (RFC 9112 §3, RFC 6585 §5): request-line longer than `maxRequestLineBytes` → 414 (400 if
 * it is not even a method and SP); header section larger than `maxHeaderBytes` or with more than
 * `maxHeaderCount` fields → 431.
 */
import { H1Error } from '../../core/errors.js';
import { resolveLimits, type Limits } from '../../core/limits.js';
import { FieldSectionReader, type FieldList } from './fields.js';
import { LineReader, toBuffer } from './lines.js';
import {
  parseRequestLine,
  parseStatusLine,
  requestLineTooLong,
  type HttpVersion,
  type RequestLine,
  type StatusLine,
} from './start-line.js';

export interface RequestHead extends RequestLine {
  /** Field lines in order, names in lower case, values OWS-trimmed (RFC 9112 §5). */
  headers: FieldList;
  /** Bytes of the head on the wire: ignored empty lines, start-line, field lines, final CRLF. */
  rawLength: number;
}

export interface ResponseHead extends StatusLine {
  headers: FieldList;
  rawLength: number;
}

export interface HeadResult<Head> {
  head: Head;
  /** Bytes after the head in the last push (a subarray, not a copy). */
  rest: Buffer;
}

/** The `rest` of a head that ended its push, shared: empty, so nobody can write into it. */
const NOTHING_AFTER = Buffer.alloc(0);

export type HeadLimits = Pick<Limits, 'maxRequestLineBytes' | 'maxHeaderBytes' | 'maxHeaderCount'>;

/** The line-by-line loop common to both directions; subclasses read the start-line. */
abstract class HeadParser<Start, Head> {
  protected readonly limits: HeadLimits;
  private readonly lines = new LineReader();
  private start: Start | null = null;
  /** Reads the field section once the start-line is in (null before); made once, reset per head. */
  private fields: FieldSectionReader | null = null;
  private fieldReader: FieldSectionReader | null = null;
  /** Bytes consumed by the head so far (for `rawLength` and the start-line budget). */
  private consumed = 0;
  private failure: H1Error | null = null;
  /** For parse(): bytes of the caller's buffer already pushed. */
  private seen = 0;

  constructor(limits?: Partial<Limits>) {
    this.limits = resolveLimits(limits);
  }

  /** True while part of a head has been received (used to tell an idle close from a cut one). */
  get inProgress(): boolean {
    return this.consumed > 0 || this.lines.pending > 0;
  }

  /**
   * Feeds bytes. Returns the head and the bytes after it once the head is complete, else null.
   * Throws H1Error for a malformed or oversized head.
   */
  push(bytes: Uint8Array): HeadResult<Head> | null {
    if (this.failure !== null) throw this.failure;
    try {
      return this.run(toBuffer(bytes));
    } catch (error) {
      if (error instanceof H1Error) this.failure = error;
      this.lines.clear();
      throw error;
    }
  }

  /**
   * Buffer-style entry for a caller that keeps its own input buffer: pass the whole unconsumed
   * input each time (it may only grow between calls until a head is returned). Only the new bytes
   * are scanned. Returns the head and how many bytes of `input` it took, else null.
   */
  parse(input: Uint8Array): { head: Head; consumed: number } | null {
    if (input.length < this.seen) throw new RangeError('parse(): pass the whole unconsumed input, which may only grow');
    const result = this.push(input.subarray(this.seen));
    if (result === null) {
      this.seen = input.length;
      return null;
    }
    this.seen = 0;
    return { head: result.head, consumed: input.length - result.rest.length };
  }

  private run(input: Buffer): HeadResult<Head> | null {
    const lines = this.lines;
    let pos = 0;
    for (;;) {
      const fields = this.fields;
      const next =
        fields === null
          ? lines.next(input, pos, Math.max(0, this.limits.maxRequestLineBytes - this.consumed), this.startLineTooLong)
          : lines.next(input, pos, fields.maxNextLine, fields.tooLarge);
      if (next === -1) return null;
      pos = next;
      const { buffer, start, end } = lines;
      this.consumed += end - start + 2;
      if (fields === null) {
        if (end === start && this.skipsEmptyLine()) {
          // Empty lines share the start-line budget, so an endless run of CRLFs ends in an error.
          if (this.consumed > this.limits.maxRequestLineBytes) throw this.tooLong(Buffer.alloc(0));
          continue;
        }
        this.start = this.parseStart(buffer, start, end);
        // Made on the first head (the subclass's settings are not set yet in this constructor).
        this.fields = this.fieldReader ??= new FieldSectionReader({
          maxBytes: this.limits.maxHeaderBytes,
          maxCount: this.limits.maxHeaderCount,
          obsFold: this.obsFold,
          kind: 'header',
          badStatus: this.badStatus,
        });
        this.fields.reset();
      } else if (fields.line(buffer, start, end)) {
        const head = this.build(this.start!, fields.fields, this.consumed);
        lines.release();
        this.start = null;
        this.fields = null;
        this.consumed = 0;
        // Most heads end their push (no body, nothing pipelined): no view is made of nothing.
        return { head, rest: pos === input.length ? NOTHING_AFTER : input.subarray(pos) };
      }
    }
  }

  private readonly startLineTooLong = (prefix: Buffer): H1Error => this.tooLong(prefix);

  protected abstract readonly obsFold: 'reject' | 'replace';
  protected abstract readonly badStatus: number;
  protected abstract skipsEmptyLine(): boolean;
  protected abstract parseStart(line: Buffer, start: number, end: number): Start;
  protected abstract tooLong(prefix: Buffer): H1Error;
  protected abstract build(start: Start, headers: FieldList, rawLength: number): Head;
}

/**
 * Server side: parses request heads. Errors carry the status to answer with, and the connection
 * is to be closed after it (RFC 9112 §9.6 / the ProtocolError scope 'connection').
 */
export class RequestHeadParser extends HeadParser<RequestLine, RequestHead> {
  protected readonly obsFold = 'reject'; // RFC 9112 §5.2: a server MUST reject or replace; we reject
  protected readonly badStatus = 400;

  /** RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line;
   *  we ignore any number within the request-line byte budget. */
  protected skipsEmptyLine(): boolean {
    return true;
  }

  protected parseStart(line: Buffer, start: number, end: number): RequestLine {
    return parseRequestLine(line, start, end);
  }

  protected tooLong(prefix: Buffer): H1Error {
    return requestLineTooLong(prefix, this.limits.maxRequestLineBytes);
  }

  protected build(start: RequestLine, headers: FieldList, rawLength: number): RequestHead {
    const { method, target, version, form, path, authority } = start;
    return { method, target, version, form, path, authority, headers, rawLength };
  }
}

/**
 * Client side: parses response heads. Errors are H1Error(502): the response is invalid and the
 * connection unusable. obs-fold is replaced by SP, as a user agent MUST (RFC 9112 §5.2).
 */
export class ResponseHeadParser extends HeadParser<StatusLine, ResponseHead> {
  protected readonly obsFold = 'replace';
  protected readonly badStatus = 502;

  protected skipsEmptyLine(): boolean {
    return false;
  }

  protected parseStart(line: Buffer, start: number, end: number): StatusLine {
    return parseStatusLine(line, start, end, this.badStatus);
  }

  protected tooLong(): H1Error {
    return new H1Error(502, `status-line longer than ${this.limits.maxRequestLineBytes} bytes`, 'RFC 9112 §4');
  }

  protected build(start: StatusLine, headers: FieldList, rawLength: number): ResponseHead {
    const { version, status, reason } = start;
    return { version, status, reason, headers, rawLength };
  }
}

export type { HttpVersion };
