import { describe, expect, it } from 'vitest';
import { download, Pair, pattern, sha256, StreamSink } from '../sim/harness.js';

describe('QUIC transfer in memory (RFC 9000 §2–4, RFC 9002)', () => {
  it('moves 10 MB on one stream, every byte once and in order (checksum)', () => {
    const pair = new Pair({ link: { delay: 5 } });
    const size = 10 * 1024 * 1024;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(data.length).toBe(size);
    expect(sha256(data)).toBe(sha256(pattern(size)));
  }, 60_000);

  it('multiplexes 1,000 streams, each answered in full (RFC 9000 §2.1, §4.6 MAX_STREAMS)', () => {
    const pair = new Pair({ link: { delay: 5 } });
    const sink = new StreamSink();
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(1000 + (e.id % 97)), true);
    };
    pair.onClientEvent = (e) => sink.onEvent(e);
    expect(pair.handshake()).toBe(true);
    const wanted: number[] = [];
    let opened = 0;
    const openMore = () => {
      while (opened < 1000) {
        const id = pair.client.openStream();
        if (id === null) return;
        pair.client.write(id, Buffer.from('x'), true);
        wanted.push(id);
        opened++;
      }
    };
    const previous = pair.onClientEvent;
    pair.onClientEvent = (e) => {
      previous(e);
      if (e.type === 'streams-available') openMore();
    };
    openMore();
    expect(pair.run(() => opened === 1000 && wanted.every((id) => sink.finished.has(id)), 120_000)).toBe(true);
    for (const id of wanted) expect(sink.data(id).equals(pattern(1000 + (id % 97)))).toBe(true);
  }, 60_000);
});
