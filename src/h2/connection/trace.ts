/**
 * One-line descriptions of HTTP/2 frames for `--trace` (RFC 9113 §4.1, §6): type, flags, stream,
 * payload length and the fields that matter for each type.
 */
import { errorCodeName } from '../errors.js';
import type { AssembledFrame, Frame } from '../frame.js';

function flagNames(names: (string | false)[]): string {
  const set = names.filter(Boolean);
  return set.length ? ` flags=${set.join('|')}` : '';
}

/** RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1 setting names. */
const SETTING_NAMES: Record<number, string> = {
  0x1: 'HEADER_TABLE_SIZE', 0x2: 'ENABLE_PUSH', 0x3: 'MAX_CONCURRENT_STREAMS', 0x4: 'INITIAL_WINDOW_SIZE',
  0x5: 'MAX_FRAME_SIZE', 0x6: 'MAX_HEADER_LIST_SIZE', 0x8: 'ENABLE_CONNECT_PROTOCOL', 0x9: 'NO_RFC7540_PRIORITIES',
};

const padding = (padLength: number | undefined): number => (padLength === undefined ? 0 : padLength + 1);

/** "DATA stream=1 flags=END_STREAM length=16" and the like. */
export function describeFrame(frame: Frame | AssembledFrame): string {
  const at = `stream=${frame.streamId}`;
  switch (frame.type) {
    case 'DATA':
      return `DATA ${at}${flagNames([frame.endStream && 'END_STREAM', frame.padLength !== undefined && 'PADDED'])} length=${frame.data.length + padding(frame.padLength)}`;
    case 'HEADERS':
      return `HEADERS ${at}${flagNames([frame.endStream && 'END_STREAM', frame.endHeaders && 'END_HEADERS', frame.padLength !== undefined && 'PADDED', frame.priority !== undefined && 'PRIORITY'])} length=${frame.fragment.length}`;
    case 'CONTINUATION':
      return `CONTINUATION ${at}${flagNames([frame.endHeaders && 'END_HEADERS'])} length=${frame.fragment.length}`;
    case 'PUSH_PROMISE':
      return `PUSH_PROMISE ${at}${flagNames([frame.endHeaders && 'END_HEADERS'])} promised=${frame.promisedStreamId} length=${frame.fragment.length + 4}`;
    case 'FIELD_BLOCK':
      return `${frame.opener} ${at} block=${frame.block.length}${frame.endStream ? ' END_STREAM' : ''}`;
    case 'PRIORITY':
      return `PRIORITY ${at} dependency=${frame.priority.dependency} weight=${frame.priority.weight}${frame.priority.exclusive ? ' exclusive' : ''}`;
    case 'RST_STREAM':
      return `RST_STREAM ${at} error=${errorCodeName(frame.errorCode)}`;
    case 'SETTINGS':
      return `SETTINGS ${at}${flagNames([frame.ack && 'ACK'])} ${frame.settings.map(([id, v]) => `${SETTING_NAMES[id] ?? `0x${id.toString(16)}`}=${v}`).join(' ')}`.trimEnd();
    case 'PING':
      return `PING ${at}${flagNames([frame.ack && 'ACK'])} data=${Buffer.from(frame.opaqueData).toString('hex')}`;
    case 'GOAWAY':
      return `GOAWAY ${at} last_stream=${frame.lastStreamId} error=${errorCodeName(frame.errorCode)}${frame.debugData.length ? ` debug=${JSON.stringify(Buffer.from(frame.debugData).toString('latin1'))}` : ''}`;
    case 'WINDOW_UPDATE':
      return `WINDOW_UPDATE ${at} increment=${frame.increment}`;
    case 'PRIORITY_UPDATE':
      return `PRIORITY_UPDATE ${at} prioritized=${frame.prioritizedStreamId} ${JSON.stringify(frame.fieldValue)}`;
    case 'UNKNOWN':
      return `UNKNOWN(0x${frame.frameType.toString(16)}) ${at} flags=0x${frame.flags.toString(16)} length=${frame.payload.length}`;
  }
}
