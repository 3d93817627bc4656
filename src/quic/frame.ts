/**
 * QUIC frames (RFC 9000 §12.4, §19; RFC 9221 §4): the `Frame` union, its decoder and encoder, and
 * the §12.4 table of where each frame may appear. One concern per file in ./frames/; this
 * re-exports them.
 */
export * from './frames/types.js';
export * from './frames/decode.js';
export * from './frames/encode.js';
export * from './frames/permissions.js';
