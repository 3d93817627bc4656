/**
 * The shape of one conformance case and what a case gets to work with.
 *
 * A case names the RFC section it checks, what it sends, and what the RFC requires back, so that
 * the table printed by `npm run conformance -- h2` explains a failure without reading the code.
 */
import type { FieldInput } from '../../../src/h2/hpack.js';
import type { H2TestClient, Target } from './client.js';

export interface CaseContext {
  target: Target;
  /** ":scheme" matching the transport: "https" over TLS, "http" over h2c (RFC 9113 §8.3.1). */
  scheme: 'http' | 'https';
  /** ":authority" naming the server. */
  authority: string;
  /** Request pseudo-header fields for `method` and `path` (RFC 9113 §8.3.1), then `extra`. */
  request(method?: string, path?: string, extra?: readonly FieldInput[]): FieldInput[];
}

export interface ConformanceCase {
  /** The rule's home, e.g. "RFC 9113 §6.5" or "RFC 7541 §6.1". */
  section: string;
  /** What the client does. */
  name: string;
  /** What the RFC requires of the server. */
  expect: string;
  /** Run over TLS with ALPN h2 (RFC 9113 §3.2) instead of h2c with prior knowledge. */
  tls?: boolean;
  /** false: the case does its own connection preface (RFC 9113 §3.4). */
  handshake?: boolean;
  run(c: H2TestClient, ctx: CaseContext): Promise<void>;
}

/** Builds a CaseContext for a server at `target`. */
export function caseContext(target: Target): CaseContext {
  const scheme = target.tls ? 'https' : 'http';
  const authority = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return {
    target,
    scheme,
    authority,
    request(method = 'GET', path = '/', extra = []) {
      return [[':method', method], [':scheme', scheme], [':path', path], [':authority', authority], ...extra];
    },
  };
}
