/** The h2 and h3 clients, as src/client.ts dispatches to them, and their connection pools. */
import type { ClientRequestOptions, ClientResponse } from './h1/client.js';
import { closeH2Connections, h2Request } from './h2/client.js';
import { closeH3Connections, h3Request } from './h3/client.js';

type ProtocolClient = (url: URL, options: ClientRequestOptions & { protocol?: string }) => Promise<ClientResponse>;

export function clientExtensions(): { h2: ProtocolClient | null; h3: ProtocolClient | null; closePooled: () => Promise<void> } {
  return {
    h2: h2Request,
    h3: h3Request,
    async closePooled() {
      closeH2Connections();
      await closeH3Connections();
    },
  };
}
