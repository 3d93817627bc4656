import { describe, expect, it } from 'vitest';
import { formatFrame } from '../../../src/h2/frame.js';

describe('formatFrame', () => {
  it.each([
    [{ type: 'DATA', streamId: 1, endStream: true, data: Buffer.alloc(5), padLength: 2 }, '[DATA] stream=1 <END_STREAM> length=5 padded=2'],
    [{ type: 'HEADERS', streamId: 3, endStream: false, endHeaders: true, fragment: Buffer.alloc(9), priority: { exclusive: true, dependency: 1, weight: 16 } },
      '[HEADERS] stream=3 <END_HEADERS PRIORITY> block=9 dependency=1 exclusive weight=16'],
    [{ type: 'RST_STREAM', streamId: 5, errorCode: 8 }, '[RST_STREAM] stream=5 error=CANCEL'],
    [{ type: 'SETTINGS', streamId: 0, ack: false, settings: [[3, 100], [4, 65535]] }, '[SETTINGS] stream=0 0x3=100 0x4=65535'],
    [{ type: 'SETTINGS', streamId: 0, ack: true, settings: [] }, '[SETTINGS] stream=0 <ACK>'],
    [{ type: 'GOAWAY', streamId: 0, lastStreamId: 7, errorCode: 0x42, debugData: Buffer.from('bye') }, '[GOAWAY] stream=0 last=7 error=UNKNOWN_ERROR_0x42 debug="bye"'],
    [{ type: 'UNKNOWN', frameType: 0xfa, streamId: 0, flags: 1, payload: Buffer.alloc(3) }, '[0xfa] stream=0 flags=0x1 length=3'],
  ] as const)('%j', (frame, text) => {
    expect(formatFrame(frame as never)).toBe(text);
  });
});
