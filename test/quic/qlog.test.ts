import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qlogSinks } from '../../src/quic/qlog.js';
import { Pair } from './sim/harness.js';

describe('qlog (JSON-SEQ, one file per connection)', () => {
  it('is off without a directory', () => {
    expect(qlogSinks('')).toBeUndefined();
  });

  it('writes a header and packet events for both sides of a handshake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h123-qlog-'));
    const sinks = qlogSinks(dir, () => 0)!;
    const pair = new Pair({ client: { qlog: sinks }, serverRouter: { qlog: sinks } });
    expect(pair.handshake()).toBe(true);
    pair.client.close(0, 'done');
    pair.run(() => pair.server!.state === 'draining');
    await new Promise((r) => setTimeout(r, 50));
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files.some((f) => f.endsWith('_client.sqlog'))).toBe(true);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      const records = text.split('\u001e').filter((r) => r.length > 0).map((r) => JSON.parse(r));
      expect(records[0].qlog_format).toBe('JSON-SEQ');
      const names = records.slice(1).map((r: { name: string }) => r.name);
      expect(names).toContain('transport:packet_sent');
      expect(names).toContain('transport:packet_received');
      expect(names).toContain('connectivity:connection_closed');
    }
  });
});
