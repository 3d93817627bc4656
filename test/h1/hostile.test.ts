/**
 * Replays fixtures/h1-hostile/ (see its README): every case in cases.json must be refused with its
 * status and section, fed whole and byte by byte; every case in accepted.json must parse to its bodies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRequests } from './stream.js';

type Part = string | { repeat: string; count: number };

interface HostileCase {
  name: string;
  status: number;
  section: string;
  description: string;
  request: string | Part[];
}

interface AcceptedCase {
  name: string;
  description: string;
  request: string | Part[];
  bodies: string[];
}

const load = <T>(file: string): T[] =>
  JSON.parse(readFileSync(new URL(`../../fixtures/h1-hostile/${file}`, import.meta.url), 'utf8')) as T[];

function requestBytes(request: string | Part[]): Buffer {
  const parts = typeof request === 'string' ? [request] : request;
  const text = parts.map((p) => (typeof p === 'string' ? p : p.repeat.repeat(p.count))).join('');
  return Buffer.from(text, 'latin1');
}

function eachByte(bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

const hostile = load<HostileCase>('cases.json');
const accepted = load<AcceptedCase>('accepted.json');

describe('hostile corpus: refused with the expected status', () => {
  it('has at least 40 distinct cases', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
    expect(new Set(hostile.map((c) => c.name)).size).toBe(hostile.length);
  });

  it.each(hostile.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = requestBytes(c.request);
    const whole = readRequests([bytes]);
    expect(whole.error, c.description).not.toBeNull();
    expect(whole.error!.status, `${c.description}: ${whole.error!.message}`).toBe(c.status);
    // The error names the rule the case breaks, so a failure explains itself.
    expect(whole.error!.section, `${c.description}: ${whole.error!.message}`).toBe(c.section);
    // The verdict must not depend on how the bytes arrive.
    const trickle = readRequests(eachByte(bytes));
    expect(trickle.error?.status).toBe(c.status);
    expect(trickle.requests.length).toBe(whole.requests.length);
  });
});

describe('accepted corpus: tricky but valid', () => {
  it.each(accepted.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = requestBytes(c.request);
    for (const pieces of [[bytes], eachByte(bytes)]) {
      const got = readRequests(pieces);
      expect(got.error).toBeNull();
      expect(got.requests.map((r) => r.body.toString('latin1'))).toEqual(c.bodies);
    }
  });
});
