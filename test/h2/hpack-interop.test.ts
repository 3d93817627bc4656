/**
 * The HPACK adapter and frame codec against nghttp2 (the HTTP/2 library inside node:http2): a
 * node:http2 client talks to a minimal in-test server built from the h2 codecs. nghttp2 checks
 * RFC 7541 §4.2 strictly, so this is where a missing Dynamic Table Size Update shows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import hpack from 'hpack.js';
import { FieldBlockAssembler, FrameDecoder, encodeDataFrame, encodeFrame, encodeHeadersBlock } from '../../src/h2/frame.js';
import { HpackDecoder, HpackEncoder } from '../../src/h2/hpack.js';
import { validateRequestHeaders } from '../../src/h2/headers.js';
import { DEFAULT_SETTINGS, applySettings } from '../../src/h2/settings.js';
import { ErrorCode } from '../../src/h2/errors.js';

type Encode = (fields: Array<[string, string]>) => Buffer;

/** Answers every request with 200, its path in x-path, and a fixed x-repeat (dynamic table use). */
function startServer(makeEncoder: () => { encode: Encode; peerTableSize(size: number): void }): Promise<{ server: net.Server; goaways: number[] }> {
  /** GOAWAY error codes this server received. */
  const goaways: number[] = [];
  const server = net.createServer((socket) => {
    const frames = new FrameDecoder({ expectPreface: true });
    const blocks = new FieldBlockAssembler();
    const decoder = new HpackDecoder();
    const encoder = makeEncoder();
    let settings = { ...DEFAULT_SETTINGS };
    let first = true;
    socket.write(encodeFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings: [] }));
    socket.on('data', (chunk) => {
      frames.push(chunk);
      for (const frame of frames.frames()) {
        const item = blocks.push(frame);
        if (item?.type === 'GOAWAY') {
          goaways.push(item.errorCode);
          socket.destroy();
        } else if (item?.type === 'SETTINGS' && !item.ack) {
          settings = applySettings(settings, item.settings, { receiver: 'server', first });
          first = false;
          encoder.peerTableSize(settings.headerTableSize);
          socket.write(encodeFrame({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] }));
        } else if (item?.type === 'FIELD_BLOCK') {
          const request = validateRequestHeaders(decoder.decode(item.block), item.streamId);
          const block = encoder.encode([[':status', '200'], ['x-path', request.path ?? ''], ['x-repeat', 'same value every time']]);
          socket.write(encodeHeadersBlock(item.streamId, block, { maxFrameSize: settings.maxFrameSize }));
          socket.write(Buffer.concat(encodeDataFrame(item.streamId, Buffer.from('ok'), { endStream: true })));
        }
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, goaways })));
}

function get(client: http2.ClientHttp2Session, path: string): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const request = client.request({ ':path': path });
    request.on('response', (headers) => {
      request.resume();
      request.on('end', () => resolve(headers));
    });
    request.on('error', reject);
    request.end();
  });
}

let server: net.Server | undefined;
let client: http2.ClientHttp2Session | undefined;
afterEach(() => {
  client?.destroy();
  server?.close();
  client = server = undefined;
});

async function connect(headerTableSize: number, makeEncoder: Parameters<typeof startServer>[0]) {
  const started = await startServer(makeEncoder);
  server = started.server;
  const { port } = server.address() as AddressInfo;
  client = http2.connect(`http://127.0.0.1:${port}`, { settings: { headerTableSize } });
  client.on('error', () => {});
  return { session: client, goaways: started.goaways };
}

describe('HPACK against nghttp2 (node:http2 client)', () => {
  it('decodes its requests and is understood when it sets SETTINGS_HEADER_TABLE_SIZE to 0', async () => {
    const { session, goaways } = await connect(0, () => {
      const encoder = new HpackEncoder();
      return { encode: (fields) => encoder.encode(fields), peerTableSize: (size) => encoder.setPeerMaxTableSize(size) };
    });
    for (const path of ['/a', '/b?x=1', '/c']) {
      const headers = await get(session, path);
      expect(headers[':status']).toBe(200);
      expect(headers['x-path']).toBe(path);
      expect(headers['x-repeat']).toBe('same value every time');
    }
    expect(goaways).toEqual([]);
  });

  it('uses its dynamic table across requests with the default size', async () => {
    const { session } = await connect(4096, () => {
      const encoder = new HpackEncoder();
      return { encode: (fields) => encoder.encode(fields), peerTableSize: (size) => encoder.setPeerMaxTableSize(size) };
    });
    for (const path of ['/1', '/2', '/3', '/4']) expect((await get(session, path))['x-path']).toBe(path);
  });

  it("fails with hpack.js's own Compressor, which never signals the lowered size (the trap)", async () => {
    const { session, goaways } = await connect(0, () => {
      const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
      return {
        encode: (fields) => {
          compressor.write(fields.map(([name, value]) => ({ name, value })));
          return compressor.read() ?? Buffer.alloc(0);
        },
        peerTableSize: (size) => compressor.updateTableSize(size),
      };
    });
    // nghttp2 answers the first response block with GOAWAY(COMPRESSION_ERROR).
    get(session, '/a').catch(() => {});
    while (goaways.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(goaways).toEqual([ErrorCode.COMPRESSION_ERROR]);
  });
});
