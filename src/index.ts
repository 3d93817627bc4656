/** h123's public API: serve a handler on h1/h2/h3, make requests, and the streaming helpers. */
export { serve, type ServeOptions, type RunningServer } from './serve.js';
export { request, type RequestOptions, type ClientProtocol, type ClientResponse } from './client.js';
export { sse, formatEvent, type SseEvent, type SseStream, type SseOptions } from './core/sse.js';
export { fetchHandler, type FetchFunction } from './core/fetch-handler.js';
export { HeaderList, type HeaderInit } from './core/headers.js';
export { readAll } from './core/body.js';
export { DEFAULT_LIMITS, type Limits } from './core/limits.js';
export type { Handler, ServerRequest, ServerResponse, Protocol } from './core/types.js';
export { demoHandler } from './demo/routes.js';
export { loadOrCreateDevCertificate, type DevCertificate } from './cert/dev-cert.js';
