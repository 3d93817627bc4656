/** AbortState (src/core/abort.ts): abort listeners and the lazily made AbortSignal. */
import { describe, expect, it } from 'vitest';
import { AbortState } from '../../src/core/abort.js';

describe('AbortState', () => {
  it('runs every listener once, in the order they were added, with the reason', () => {
    const state = new AbortState();
    const calls: string[] = [];
    for (const name of ['first', 'second', 'third']) state.onAbort((reason) => calls.push(`${name}:${String(reason)}`));
    state.abort('gone');
    state.abort('again');
    expect(calls).toEqual(['first:gone', 'second:gone', 'third:gone']);
  });

  it('ignores listeners added after the abort, and a signal made later is already aborted', () => {
    const state = new AbortState();
    state.abort('gone');
    let called = false;
    state.onAbort(() => { called = true; });
    expect(called).toBe(false);
    expect(state.signal.aborted).toBe(true);
    expect(state.signal.reason).toBe('gone');
  });

  it('aborts a signal made before the abort', () => {
    const state = new AbortState();
    const signal = state.signal;
    state.onAbort(() => {});
    state.abort('gone');
    expect(signal.aborted).toBe(true);
  });
});
