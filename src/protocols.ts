/**
 * The seam between serve() and the h2/h3 drivers: what serve() needs from each, so that serve.ts
 * reads as the story of ports and protocols rather than of any one protocol's driver.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { HeaderList } from './core/headers.js';
import type { Limits } from './core/limits.js';
import type { Handler } from './core/types.js';
import type { ErrorReporter } from './core/dispatch.js';
import type { TrackedConnection } from './h1/server.js';
import type { RequestHead } from './h1/parse.js';

export interface StreamServerOptions {
  handler: Handler;
  limits: Limits;
  defaultHeaders: HeaderList | undefined;
  onHandlerError?: ErrorReporter;
}

export interface H2Extension {
  attach(socket: net.Socket | tls.TLSSocket, options: StreamServerOptions, initialData?: Uint8Array): TrackedConnection;
  /** Reads the first bytes of a cleartext connection: the h2 preface, or HTTP/1.1. */
  sniffCleartext(socket: net.Socket, route: { h2: () => void; h1: (initial: Uint8Array) => void }): void;
  /** `Upgrade: h2c` (RFC 7540 §3.2): answers 101 and continues as h2, or returns null. */
  upgrade(socket: net.Socket, head: RequestHead, rest: Uint8Array, options: StreamServerOptions): TrackedConnection | null;
}

export interface H3Listener {
  readonly port: number;
  close(): Promise<void>;
}

export interface H3Extension {
  listen(options: {
    addresses: string[]; port: number; cert: string; key: string;
    handler: Handler; limits: Limits; onHandlerError?: ErrorReporter;
  }): Promise<H3Listener>;
}

export interface ProtocolExtensions {
  h2: H2Extension | null;
  h3: H3Extension | null;
}

export async function protocolExtensions(): Promise<ProtocolExtensions> {
  const { h2Extension } = await import('./h2/server.js');
  const { h3Extension } = await import('./h3/server.js');
  return { h2: h2Extension, h3: h3Extension };
}
