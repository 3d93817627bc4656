/**
 * The one streaming interface every protocol serves (pinned in DESIGN.md): a handler gets a request
 * and a response, and the same calls produce h1 chunks, h2 DATA frames or h3 DATA frames.
 */
import type { HeaderInit, HeaderList } from './headers.js';

export type Protocol = 'http/1.1' | 'h2' | 'h3';

export type Handler = (req: ServerRequest, res: ServerResponse) => void | Promise<void>;

export interface ServerRequest {
  method: string;
  path: string;
  authority: string;
  scheme: 'http' | 'https';
  protocol: Protocol;
  /** Lower-case names, order kept, repeats kept. */
  headers: HeaderList;
  /** Request body, streamed with backpressure: a slow reader slows the sender. */
  body: AsyncIterable<Uint8Array>;
  /** Aborts when the client goes away or resets the stream before the response ends. */
  signal: AbortSignal;
  remoteAddress: string;
  remotePort: number;
}

export interface ServerResponse {
  setHeader(name: string, value: string | string[]): void;
  writeHead(status: number, headers?: HeaderInit): void;
  /** Returns false once over the high-water mark: await drain() before writing more. */
  write(chunk: Uint8Array | string): boolean;
  drain(): Promise<void>;
  /** Sends what is buffered now instead of at the end of the tick. */
  flush(): void;
  end(chunk?: Uint8Array | string, trailers?: HeaderInit): Promise<void>;
  /** Server push (h2, h3); null where the client allows none. */
  push(path: string, headers?: HeaderInit): ServerResponse | null;
  readonly signal: AbortSignal;
}
