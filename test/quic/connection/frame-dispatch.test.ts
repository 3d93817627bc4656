import { describe, expect, it } from 'vitest';
import { dispatchFrame, FRAME_HANDLERS, type FrameHandlers, type PacketContext } from '../../../src/quic/connection/frame-dispatch.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import type { Frame } from '../../../src/quic/frames/types.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

/** Records which handler ran. */
function recorder(): { handlers: FrameHandlers; calls: string[] } {
  const calls: string[] = [];
  const handlers = new Proxy({} as FrameHandlers, {
    get: (_t, name: string) => () => calls.push(name),
  });
  return { handlers, calls };
}

const ctx = (packetType: PacketContext['packetType']): PacketContext => ({
  space: packetType === 'initial' ? PacketNumberSpace.Initial : packetType === 'handshake' ? PacketNumberSpace.Handshake : PacketNumberSpace.ApplicationData,
  packetType,
  packetNumber: 0,
  dcid: Buffer.alloc(8),
  from: { address: '192.0.2.1', port: 1 },
  now: 0,
});

describe('frame dispatch (RFC 9000 §12.4, §19)', () => {
  it('has one handler for every frame type', () => {
    const types: Frame['type'][] = [
      'padding', 'ping', 'ack', 'reset_stream', 'stop_sending', 'crypto', 'new_token', 'stream', 'max_data',
      'max_stream_data', 'max_streams', 'data_blocked', 'stream_data_blocked', 'streams_blocked', 'new_connection_id',
      'retire_connection_id', 'path_challenge', 'path_response', 'connection_close', 'application_close', 'handshake_done', 'datagram',
    ];
    expect(Object.keys(FRAME_HANDLERS).sort()).toEqual([...types].sort());
  });

  it('routes a frame to its handler', () => {
    const { handlers, calls } = recorder();
    dispatchFrame(handlers, { type: 'stream', streamId: 0, offset: 0, data: new Uint8Array(1), fin: false }, ctx('1rtt'), 'server');
    dispatchFrame(handlers, { type: 'crypto', offset: 0, data: new Uint8Array(1) }, ctx('initial'), 'server');
    dispatchFrame(handlers, { type: 'ping' }, ctx('handshake'), 'server');
    expect(calls).toEqual(['onStream', 'onCrypto']);
  });

  it('refuses frames in packet types Table 3 does not allow, before any handler runs (§12.4)', () => {
    const { handlers, calls } = recorder();
    const refused: [Frame, PacketContext['packetType']][] = [
      [{ type: 'stream', streamId: 0, offset: 0, data: new Uint8Array(1), fin: false }, 'initial'],
      [{ type: 'max_data', maximum: 1 }, 'handshake'],
      [{ type: 'ack', ranges: [[0, 0]], ackDelay: 0 }, '0rtt'],
      [{ type: 'application_close', errorCode: 0, reason: '' }, 'initial'],
      [{ type: 'handshake_done' }, 'handshake'],
    ];
    for (const [frame, packetType] of refused) {
      expect(() => dispatchFrame(handlers, frame, ctx(packetType), 'client')).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    }
    expect(calls).toEqual([]);
  });

  it('refuses NEW_TOKEN and HANDSHAKE_DONE from a client (§19.7, §19.20)', () => {
    const { handlers } = recorder();
    expect(() => dispatchFrame(handlers, { type: 'handshake_done' }, ctx('1rtt'), 'server')).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    expect(() => dispatchFrame(handlers, { type: 'new_token', token: new Uint8Array(4) }, ctx('1rtt'), 'server')).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
  });
});
