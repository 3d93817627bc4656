/**
 * The benchmark workloads, written once for h123's Handler and once for node:http/http2, so that
 * both servers do the same work:
 *   S — five flushed 16-byte chunks (latency-bound streaming);
 *   B — 1 MiB written in 16 KiB pieces with backpressure (throughput).
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import type { Handler } from '../src/core/types.js';

export const CHUNK_16 = Buffer.from('0123456789abcde\n');
export const PIECE_16K = Buffer.alloc(16 * 1024, 0x61);
export const B_PIECES = 64; // 64 × 16 KiB = 1 MiB

export const h123Handler: Handler = async (req, res) => {
  if (req.path.startsWith('/s')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 5; i++) {
      res.write(CHUNK_16);
      res.flush();
    }
    await res.end();
  } else if (req.path.startsWith('/b')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(PIECE_16K.length * B_PIECES) });
    for (let i = 0; i < B_PIECES; i++) if (!res.write(PIECE_16K)) await res.drain();
    await res.end();
  } else {
    await res.end('ok\n');
  }
};

type NodeRes = http.ServerResponse | http2.Http2ServerResponse;

export function nodeHandler(req: { url?: string }, anyRes: NodeRes): void {
  // Both response classes have the same methods; one type keeps the calls simple.
  const res = anyRes as http.ServerResponse;
  const url = req.url ?? '/';
  if (url.startsWith('/s')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    // node:http sends each write at once (no coalescing), the equivalent of write+flush.
    for (let i = 0; i < 5; i++) res.write(CHUNK_16);
    res.end();
  } else if (url.startsWith('/b')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(PIECE_16K.length * B_PIECES) });
    let i = 0;
    const pump = (): void => {
      while (i < B_PIECES) {
        i++;
        if (!res.write(PIECE_16K)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
  } else {
    res.end('ok\n');
  }
}
