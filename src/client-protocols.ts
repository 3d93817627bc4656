/** The h2 and h3 clients, as src/client.ts dispatches to them. */
import type { ClientRequestOptions, ClientResponse } from './h1/client.js';
import { h2Request } from './h2/client.js';
import { h3Request } from './h3/client.js';

type ProtocolClient = (url: URL, options: ClientRequestOptions & { protocol?: string }) => Promise<ClientResponse>;

export function clientExtensions(): { h2: ProtocolClient | null; h3: ProtocolClient | null } {
  return { h2: h2Request, h3: h3Request };
}
