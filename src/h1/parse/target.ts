/**
 * The request-target and its four forms (RFC 9112 §3.2), and the uri-host [":" port] syntax shared
 * with the Host field (RFC 9110 §7.2, RFC 3986 §3.2).
 *
 * - origin-form    absolute-path [ "?" query ]         any method        (§3.2.1)
 * - absolute-form  absolute-URI (http/https only)      any method        (§3.2.2)
 * - authority-form uri-host ":" port                   CONNECT only      (§3.2.3)
 * - asterisk-form  "*"                                 OPTIONS only      (§3.2.4)
 *
 * Anything else is an invalid request-line: 400 (RFC 9112 §3).
 */
import { isIPv6 } from 'node:net';
import { H1Error } from '../../core/errors.js';

export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

export interface ParsedTarget {
  form: TargetForm;
  /** Path and query: the target itself in origin-form, the part after the authority in
   *  absolute-form ("/" when empty), "*" in asterisk-form, "" in authority-form. */
  path: string;
  /** The authority of an absolute-form or authority-form target; null otherwise (use Host). */
  authority: string | null;
}

// pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; path and query add "/" and "?"
// (RFC 3986 §3.3, §3.4). A fragment ("#") never appears in a request-target (RFC 9112 §3.2).
const PATH_QUERY = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
// scheme "://" authority path-abempty [ "?" query ] for the http and https schemes (RFC 9110 §4.2).
const ABSOLUTE_HTTP = /^([A-Za-z][A-Za-z0-9+\-.]*):\/\/([^/?]*)([/?].*)?$/;
// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2); covers IPv4address.
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=%]*$/;
const IP_FUTURE = /^v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;

function invalidTarget(message: string, section = 'RFC 9112 §3.2'): H1Error {
  return new H1Error(400, message, section);
}

/** True for a valid absolute-path [ "?" query ] (RFC 9112 §3.2.1). */
export function isOriginForm(target: string): boolean {
  return PATH_QUERY.test(target) && (target.indexOf('%') === -1 || !BAD_PERCENT.test(target));
}

/**
 * Checks uri-host [ ":" port ] (RFC 9110 §7.2). `requirePort` is for authority-form, whose port is
 * mandatory (RFC 9112 §3.2.3); `allowEmpty` is for a Host field whose target has no authority
 * (RFC 9112 §3.2: "the client MUST send a Host header field with an empty field value").
 */
export function isValidAuthority(authority: string, requirePort = false, allowEmpty = false): boolean {
  if (authority.length === 0) return allowEmpty && !requirePort;
  let host: string;
  let port: string | null = null;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) return false;
    host = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after.length > 0) {
      if (after[0] !== ':') return false;
      port = after.slice(1);
    }
    const literal = host.slice(1, -1);
    // IP-literal = "[" ( IPv6address / IPvFuture ) "]" (RFC 3986 §3.2.2)
    if (!isIPv6(literal) && !IP_FUTURE.test(literal)) return false;
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    if (colon !== -1) port = authority.slice(colon + 1);
    if (!REG_NAME.test(host) || BAD_PERCENT.test(host)) return false;
    // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
    if (host.length === 0) return false;
  }
  if (port === null) return !requirePort;
  // port = *DIGIT (RFC 3986 §3.2.3); an empty port is allowed by the grammar, not by CONNECT.
  if (port.length === 0) return !requirePort;
  return /^[0-9]{1,5}$/.test(port) && Number(port) <= 65535;
}

/**
 * Classifies and checks a request-target for `method` (RFC 9112 §3.2). The target has already
 * passed the request-line character check (no SP, CTL or non-ASCII bytes). Throws H1Error(400).
 */
export function parseTarget(method: string, target: string): ParsedTarget {
  if (method === 'CONNECT') {
    // RFC 9112 §3.2.3: CONNECT uses authority-form, and only CONNECT does.
    if (!isValidAuthority(target, true)) throw invalidTarget('CONNECT needs an authority-form target', 'RFC 9112 §3.2.3');
    return { form: 'authority', path: '', authority: target };
  }
  if (target === '*') {
    // RFC 9112 §3.2.4: asterisk-form is only used for a server-wide OPTIONS request.
    if (method !== 'OPTIONS') throw invalidTarget('asterisk-form target is only for OPTIONS', 'RFC 9112 §3.2.4');
    return { form: 'asterisk', path: '*', authority: null };
  }
  if (target.charCodeAt(0) === 0x2f /* "/" */) {
    if (!isOriginForm(target)) throw invalidTarget('invalid origin-form target', 'RFC 9112 §3.2.1');
    return { form: 'origin', path: target, authority: null };
  }
  const absolute = ABSOLUTE_HTTP.exec(target);
  if (absolute === null) {
    if (isValidAuthority(target, true)) throw invalidTarget('authority-form target is only for CONNECT', 'RFC 9112 §3.2.3');
    throw invalidTarget('request-target is not in any of the four forms');
  }
  const scheme = absolute[1]!.toLowerCase();
  const authority = absolute[2]!;
  const rest = absolute[3] ?? '';
  // RFC 9112 §3.2.2: absolute-form; we serve only the http and https schemes (RFC 9110 §4.2).
  if (scheme !== 'http' && scheme !== 'https') throw invalidTarget(`unsupported URI scheme "${scheme}"`, 'RFC 9112 §3.2.2');
  // RFC 9110 §4.2.4: userinfo in an http(s) URI is deprecated; a recipient SHOULD treat it as an error.
  if (authority.includes('@')) throw invalidTarget('userinfo in request-target', 'RFC 9110 §4.2.4');
  if (!isValidAuthority(authority)) throw invalidTarget('invalid authority in absolute-form target', 'RFC 9110 §4.2.1');
  // RFC 9112 §3.3: an empty path is "/" when the target is reconstructed.
  const path = rest.length === 0 || rest[0] === '?' ? `/${rest}` : rest;
  if (!isOriginForm(path)) throw invalidTarget('invalid path in absolute-form target', 'RFC 9112 §3.2.2');
  return { form: 'absolute', path, authority };
}
