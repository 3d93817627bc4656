/**
 * Test helper: reads a byte stream of pipelined requests the way a server connection does —
 * head parser, then framing, then the body reader for that framing, then the next head — and
 * returns the requests it found and the error that stopped it, if any.
 */
import { H1Error } from '../../src/core/errors.js';
import type { Limits } from '../../src/core/limits.js';
import { createBodyDecoder, requestFraming, type BodyDecoder, type RequestFraming } from '../../src/h1/framing.js';
import { RequestHeadParser, type FieldList, type RequestHead } from '../../src/h1/parse.js';

export interface ReadRequest {
  head: RequestHead;
  framing: RequestFraming;
  body: Buffer;
  trailers: FieldList;
}

export interface StreamResult {
  requests: ReadRequest[];
  error: H1Error | null;
}

export function readRequests(pieces: Iterable<Uint8Array>, limits?: Partial<Limits>): StreamResult {
  const parser = new RequestHeadParser(limits);
  const requests: ReadRequest[] = [];
  let current: { head: RequestHead; framing: RequestFraming; decoder: BodyDecoder; data: Buffer[]; trailers: FieldList } | null =
    null;
  const finish = (): void => {
    const { head, framing, data, trailers } = current!;
    requests.push({ head, framing, body: Buffer.concat(data), trailers });
    current = null;
  };
  try {
    for (const piece of pieces) {
      let input: Buffer = Buffer.from(piece);
      while (input.length > 0) {
        if (current === null) {
          const got = parser.push(input);
          if (got === null) break;
          const framing = requestFraming(got.head, limits);
          current = { head: got.head, framing, decoder: createBodyDecoder(framing.body, limits), data: [], trailers: [] };
          input = got.rest;
        } else {
          const out = current.decoder.push(input);
          current.data.push(...out.data);
          current.trailers = out.trailers;
          input = out.rest;
          if (!out.done) break;
        }
        if (current.decoder.done) finish();
      }
      // A body-less request whose head ended exactly at the end of the piece.
      if (current !== null && current.decoder.done) finish();
    }
  } catch (error) {
    if (error instanceof H1Error) return { requests, error };
    throw error;
  }
  return { requests, error: null };
}

/** Splits `bytes` at the given offsets (sorted, deduplicated, clamped). */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}
