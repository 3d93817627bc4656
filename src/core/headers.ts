/**
 * Header lists as all three protocols carry them: lower-case names, order kept, repeats kept
 * (RFC 9110 §5.3: a recipient may combine repeated fields with ", " — except Set-Cookie, RFC 6265 §3).
 */
export type HeaderInit =
  | Record<string, string | number | readonly string[] | undefined>
  | Iterable<readonly [string, string]>
  | HeaderList;

export class HeaderList implements Iterable<[string, string]> {
  /** Flat pairs, names lower-case. */
  private readonly pairs: [string, string][];

  constructor(init?: HeaderInit, adopted?: [string, string][]) {
    this.pairs = adopted ?? [];
    if (init) this.append(init);
  }

  /** Wraps pairs already validated and lower-cased by a protocol parser: the array is adopted, not copied. */
  static fromPairs(pairs: [string, string][]): HeaderList {
    return new HeaderList(undefined, pairs);
  }

  get size(): number { return this.pairs.length; }

  /** All values of `name` joined with ", " (Set-Cookie joined with "\n" is never right: use getAll). */
  get(name: string): string | undefined {
    name = name.toLowerCase();
    let out: string | undefined;
    for (const [n, v] of this.pairs) {
      if (n === name) out = out === undefined ? v : `${out}, ${v}`;
    }
    return out;
  }

  getAll(name: string): string[] {
    name = name.toLowerCase();
    const out: string[] = [];
    for (const [n, v] of this.pairs) if (n === name) out.push(v);
    return out;
  }

  has(name: string): boolean {
    name = name.toLowerCase();
    return this.pairs.some(([n]) => n === name);
  }

  add(name: string, value: string): void {
    this.pairs.push([name.toLowerCase(), value]);
  }

  set(name: string, value: string | readonly string[]): void {
    this.delete(name);
    const n = name.toLowerCase();
    if (typeof value === 'string') this.pairs.push([n, value]);
    else for (const v of value) this.pairs.push([n, v]);
  }

  delete(name: string): void {
    name = name.toLowerCase();
    for (let i = this.pairs.length - 1; i >= 0; i--) if (this.pairs[i]![0] === name) this.pairs.splice(i, 1);
  }

  append(init: HeaderInit): void {
    if (init instanceof HeaderList) {
      for (const p of init.pairs) this.pairs.push([p[0], p[1]]);
    } else if (isIterable(init)) {
      for (const [n, v] of init) this.add(n, String(v));
    } else {
      for (const n of Object.keys(init)) {
        const v = init[n];
        if (v === undefined) continue;
        if (typeof v === 'string' || typeof v === 'number') this.add(n, String(v));
        else for (const x of v) this.add(n, x);
      }
    }
  }

  entries(): IterableIterator<[string, string]> { return this.pairs[Symbol.iterator](); }
  [Symbol.iterator](): IterableIterator<[string, string]> { return this.pairs[Symbol.iterator](); }

  /** Plain object with repeated names joined (for logs and tests). */
  toObject(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const [n, v] of this.pairs) o[n] = n in o ? `${o[n]}, ${v}` : v;
    return o;
  }
}

function isIterable(x: unknown): x is Iterable<readonly [string, string]> {
  return typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}

// RFC 9110 §5.1: field-name = token; §5.5: field-value has no control character but HTAB. Values go on the
// wire as one octet per character (latin1), so a character above U+00FF has no octet: refusing it
// keeps, e.g., U+010D from becoming a CR on the wire (response splitting, RFC 9112 §11.1).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/;

/** Rejects names and values that would break framing on any protocol (response splitting). */
export function assertValidField(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)} (RFC 9110 §5.1)`);
  if (BAD_VALUE.test(value)) throw new TypeError(`invalid value for header ${name}: a control character or a character above U+00FF (RFC 9110 §5.5)`);
}

/**
 * Fields a sender MUST NOT put in a trailer section, because they are needed before the content
 * (RFC 9110 §6.5.1; the list follows RFC 7230 §4.1.2's categories).
 */
export const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  // message framing (RFC 9112 §6)
  'transfer-encoding', 'content-length', 'trailer',
  // routing and connection management (RFC 9110 §7.2, §7.6)
  'host', 'connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade',
  // request modifiers (RFC 9110 §10.1, §13) and response control (RFC 9111 §5)
  'expect', 'max-forwards', 'range', 'if-match', 'if-none-match', 'if-modified-since',
  'if-unmodified-since', 'if-range', 'cache-control', 'age', 'expires', 'pragma', 'vary',
  'location', 'retry-after',
  // authentication (RFC 9110 §11) and cookies (RFC 6265)
  'authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate', 'cookie', 'set-cookie',
  // content format (RFC 9110 §8)
  'content-type', 'content-encoding', 'content-range',
]);

/** Throws for a trailer field that must not be sent in a trailer section (RFC 9110 §6.5.1). */
export function assertValidTrailer(name: string, value: string): void {
  assertValidField(name, value);
  if (FORBIDDEN_TRAILERS.has(name.toLowerCase())) throw new TypeError(`"${name}" is not allowed in a trailer section (RFC 9110 §6.5.1)`);
}
