/**
 * One-line descriptions of frames for trace output (`h123 get --trace`) and test failures, in the
 * spirit of `nghttp -v`: type, stream, flags, then the fields that matter.
 */
import { errorCodeName } from '../errors.js';
import type { Frame } from './types.js';

function flags(...names: Array<string | false | undefined>): string {
  const set = names.filter(Boolean);
  return set.length > 0 ? ` <${set.join(' ')}>` : '';
}

function padding(padLength: number | undefined): string {
  return padLength === undefined ? '' : ` padded=${padLength}`;
}

export function formatFrame(frame: Frame): string {
  const head = `[${frame.type}] stream=${frame.streamId}`;
  switch (frame.type) {
    case 'DATA':
      return `${head}${flags(frame.endStream && 'END_STREAM')} length=${frame.data.length}${padding(frame.padLength)}`;
    case 'HEADERS': {
      const p = frame.priority;
      const priority = p ? ` dependency=${p.dependency}${p.exclusive ? ' exclusive' : ''} weight=${p.weight}` : '';
      return `${head}${flags(frame.endStream && 'END_STREAM', frame.endHeaders && 'END_HEADERS', p && 'PRIORITY')} block=${frame.fragment.length}${priority}${padding(frame.padLength)}`;
    }
    case 'PRIORITY':
      return `${head} dependency=${frame.priority.dependency}${frame.priority.exclusive ? ' exclusive' : ''} weight=${frame.priority.weight}`;
    case 'RST_STREAM':
      return `${head} error=${errorCodeName(frame.errorCode)}`;
    case 'SETTINGS':
      return `${head}${flags(frame.ack && 'ACK')}${frame.settings.map(([id, value]) => ` 0x${id.toString(16)}=${value}`).join('')}`;
    case 'PUSH_PROMISE':
      return `${head}${flags(frame.endHeaders && 'END_HEADERS')} promised=${frame.promisedStreamId} block=${frame.fragment.length}${padding(frame.padLength)}`;
    case 'PING':
      return `${head}${flags(frame.ack && 'ACK')} data=${Buffer.from(frame.opaqueData).toString('hex')}`;
    case 'GOAWAY':
      return `${head} last=${frame.lastStreamId} error=${errorCodeName(frame.errorCode)} debug=${JSON.stringify(Buffer.from(frame.debugData).toString('latin1'))}`;
    case 'WINDOW_UPDATE':
      return `${head} increment=${frame.increment}`;
    case 'CONTINUATION':
      return `${head}${flags(frame.endHeaders && 'END_HEADERS')} block=${frame.fragment.length}`;
    case 'PRIORITY_UPDATE':
      return `${head} prioritized=${frame.prioritizedStreamId} value=${JSON.stringify(frame.fieldValue)}`;
    case 'UNKNOWN':
      return `[0x${frame.frameType.toString(16)}] stream=${frame.streamId} flags=0x${frame.flags.toString(16)} length=${frame.payload.length}`;
  }
}
