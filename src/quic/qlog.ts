/**
 * A small qlog writer (draft-ietf-quic-qlog-main-schema, JSON-SEQ serialization per
 * draft-ietf-quic-qlog-main-schema §5 / RFC 7464): one file per connection, named after the
 * original destination connection ID, in the directory given by QLOGDIR. Each record is
 * RS (0x1e) + JSON + LF; the first is the header with the vantage point and reference time,
 * then one record per event ({ time, name, data }) as the connection reports them.
 *
 * The connection stays sans-I/O: it calls a sink function; this file owns the file. Records are
 * gathered in memory and written in 64 KiB batches (and at close), so tracing costs few syscalls.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { QlogEvent } from './connection.js';

const RS = '\u001e';
const FLUSH_AT = 64 * 1024;

export class QlogWriter {
  private fd: number | undefined;
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly referenceTime: number;

  constructor(path: string, odcid: Buffer, role: 'client' | 'server', referenceTime: number) {
    this.fd = openSync(path, 'w');
    this.referenceTime = referenceTime;
    this.write({
      qlog_version: '0.3',
      qlog_format: 'JSON-SEQ',
      title: `h123 ${role} ${odcid.toString('hex')}`,
      trace: {
        vantage_point: { type: role },
        common_fields: { ODCID: odcid.toString('hex'), time_format: 'relative', reference_time: referenceTime },
      },
    });
  }

  /** Appends one event; times are made relative to the reference time. */
  event(e: QlogEvent): void {
    this.write({ time: e.time - this.referenceTime, name: e.name, data: e.data });
  }

  /** Writes what is pending and closes the file; later events are ignored. */
  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(record: unknown): void {
    if (this.fd === undefined) return;
    const line = `${RS}${JSON.stringify(record, (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : value))}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * A sink factory for the router when `dir` (default: the QLOGDIR environment variable) is set;
 * undefined otherwise, so that tracing costs nothing when off.
 */
export function qlogSinks(dir: string | undefined = process.env['QLOGDIR'], clock: () => number = Date.now):
  ((odcid: Buffer, role: 'client' | 'server') => (event: QlogEvent) => void) | undefined {
  if (dir === undefined || dir === '') return undefined;
  mkdirSync(dir, { recursive: true });
  return (odcid, role) => {
    const writer = new QlogWriter(join(dir, `${odcid.toString('hex')}_${role}.sqlog`), odcid, role, clock());
    return (event) => {
      writer.event(event);
      if (event.name === 'connectivity:connection_closed') writer.close();
    };
  };
}
