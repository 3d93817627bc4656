/**
 * Tick-end scheduling shared by the h1 and h2 drivers (src/core/socket-output.ts): output asked for
 * in one tick leaves once, after the microtasks pending in that tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { atTickEnd, type TickEndTask } from '../../src/core/socket-output.js';

function task(name: string, log: string[], run?: () => void): TickEndTask {
  return { tickEndDue: false, runAtTickEnd: run ?? (() => log.push(name)) };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('atTickEnd', () => {
  const saved: NodeJS.UncaughtExceptionListener[] = [];
  afterEach(() => {
    for (const l of saved.splice(0)) process.on('uncaughtException', l);
  });

  it('runs each task once at the end of the tick, after the microtasks pending then', async () => {
    const log: string[] = [];
    const a = task('a', log);
    const b = task('b', log);
    atTickEnd(a);
    atTickEnd(b);
    atTickEnd(a);
    void Promise.resolve().then(() => Promise.resolve()).then(() => log.push('microtask chain'));
    log.push('sync');
    await tick();
    expect(log).toEqual(['sync', 'microtask chain', 'a', 'b']);
    expect(a.tickEndDue).toBe(false);
  });

  it('runs before the event loop moves on: before a setImmediate queued earlier', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('immediate'));
    atTickEnd(task('task', log));
    void Promise.resolve().then(() => log.push('microtask'));
    await tick();
    expect(log).toEqual(['microtask', 'task', 'immediate']);
  });

  it('runs a task that asks again while running in a later round', async () => {
    const log: string[] = [];
    let runs = 0;
    const again: TickEndTask = task('again', log, () => {
      log.push(`again ${++runs}`);
      if (runs < 3) atTickEnd(again);
    });
    atTickEnd(again);
    await tick();
    expect(log).toEqual(['again 1', 'again 2', 'again 3']);
  });

  it('runs the other tasks when one throws, and the error still surfaces', async () => {
    const log: string[] = [];
    saved.push(...process.listeners('uncaughtException'));
    process.removeAllListeners('uncaughtException');
    const surfaced = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    const failing = task('failing', log, () => { throw new Error('boom'); });
    atTickEnd(failing);
    atTickEnd(task('after', log));
    expect(((await surfaced) as Error).message).toBe('boom');
    expect(log).toEqual(['after']);
    expect(failing.tickEndDue).toBe(false);
    // The queue still works after a failure.
    atTickEnd(task('next', log));
    await tick();
    expect(log).toEqual(['after', 'next']);
  });
});
