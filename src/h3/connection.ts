/**
 * The HTTP/3 connection (RFC 9114) over QPACK (RFC 9204), sans-I/O: it reads and writes QUIC
 * streams through the small interface in transport.ts and touches no socket, timer or clock.
 *
 *   connection/session.ts  control and QPACK streams, SETTINGS, GOAWAY, errors (§5, §6, §7, §8)
 *   connection/message.ts  one stream's frames and field sections in order (§4.1, RFC 9204 §2.2)
 *   connection/fields.ts   field sections as requests, responses and trailers (§4.2, §4.3)
 *   connection/server.ts   requests to the Handler, responses, push, graceful shutdown
 *   connection/client.ts   requests out, responses in, push accepted or refused
 */
export { H3Session, type Role, type SessionOptions } from './connection/session.js';
export { H3ServerConnection, type H3ServerOptions } from './connection/server.js';
export { H3ClientConnection, H3RequestRejected, type H3ClientOptions, type H3Push, type H3RequestInit } from './connection/client.js';
export { parseRequestHead, parseResponseHead, parseTrailers, type RequestHead, type ResponseHead } from './connection/fields.js';
