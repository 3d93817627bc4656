/** The ServerRequest every protocol hands to the handler; its AbortSignal is made on first use. */
import type { AbortState } from './abort.js';
import type { HeaderList } from './headers.js';
import type { Protocol, ServerRequest } from './types.js';

export interface IncomingRequestInit {
  method: string;
  path: string;
  authority: string;
  scheme: 'http' | 'https';
  protocol: Protocol;
  headers: HeaderList;
  body: AsyncIterable<Uint8Array>;
  abort: AbortState;
  remoteAddress: string;
  remotePort: number;
}

export class IncomingRequest implements ServerRequest {
  method: string;
  path: string;
  authority: string;
  scheme: 'http' | 'https';
  protocol: Protocol;
  headers: HeaderList;
  body: AsyncIterable<Uint8Array>;
  remoteAddress: string;
  remotePort: number;
  readonly abortState: AbortState;

  constructor(init: IncomingRequestInit) {
    this.method = init.method;
    this.path = init.path;
    this.authority = init.authority;
    this.scheme = init.scheme;
    this.protocol = init.protocol;
    this.headers = init.headers;
    this.body = init.body;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.abortState = init.abort;
  }

  get signal(): AbortSignal { return this.abortState.signal; }
}
