/**
 * QUIC packet headers (RFC 9000 §17, RFC 9369 §3.2), packet numbers (§17.1, Appendix A.2–A.3) and
 * coalesced packets (§12.2). One file per structure lives in ./packet/; this re-exports them.
 */
export * from './packet/types.js';
export * from './packet/number.js';
export * from './packet/header.js';
export * from './packet/build.js';
export * from './packet/version-negotiation.js';
export * from './packet/retry.js';
export * from './packet/coalesced.js';
