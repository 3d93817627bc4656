/**
 * How the h1 and h2 drivers hand a tick's output to a socket: once per tick, and in as few write
 * requests as possible. Shared by src/h1/server.ts and src/h2/server.ts.
 */
import type net from 'node:net';

/** Output smaller than this is copied into one buffer per write; larger output goes out as a vector. */
const COALESCE_LIMIT = 16 * 1024;
/** Large buffers go to the socket in slices (views, no copies), so progress is observable. */
const SLICE = 256 * 1024;

function writeInSlices(socket: net.Socket, piece: Uint8Array): void {
  if (piece.length <= SLICE) { socket.write(piece); return; }
  for (let offset = 0; offset < piece.length; offset += SLICE) socket.write(piece.subarray(offset, offset + SLICE));
}

/**
 * Writes `out` to the socket: small pieces (status lines, frame headers, chunk-size lines, small
 * data) as one copied buffer — one write request, one TLS record — large ones corked as a vector.
 */
export function writeCoalesced(socket: net.Socket, out: Uint8Array[]): void {
  if (out.length === 0 || socket.destroyed) return;
  if (out.length === 1) { writeInSlices(socket, out[0]!); return; }
  let total = 0;
  for (const piece of out) total += piece.length;
  if (total <= COALESCE_LIMIT) {
    socket.write(Buffer.concat(out, total));
    return;
  }
  socket.cork();
  for (const piece of out) writeInSlices(socket, piece);
  socket.uncork();
}

/** Something to run once at the end of the current tick (see {@link atTickEnd}). */
export interface TickEndTask {
  /** Set while the task is queued, so that it is queued once however often it is asked for. */
  tickEndDue: boolean;
  runAtTickEnd(): void;
}

const RESOLVED = Promise.resolve();
let due: TickEndTask[] = [];
let running: TickEndTask[] = [];
let queued = false;

function runDueTasks(): void {
  queued = false;
  // Tasks queued while these run go to the next round (the other array), as with a fresh schedule.
  const tasks = due;
  due = running;
  running = tasks;
  let failure: { error: unknown } | null = null;
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i]!;
    task.tickEndDue = false;
    // One task's failure must not leave the others unrun (each had its own tick before).
    try {
      task.runAtTickEnd();
    } catch (error) {
      failure ??= { error };
    }
  }
  tasks.length = 0;
  if (failure) throw failure.error;
}

function deferToNextTick(): void {
  process.nextTick(runDueTasks);
}

/**
 * Runs `task.runAtTickEnd()` once, at the end of the current tick: a microtask that queues a
 * nextTick runs after every microtask pending now (e.g. the flush a handler's `await res.end()`
 * queued after its last flush()) and still before the event loop moves on — so all output of one
 * tick leaves together, as node:http corks its socket per tick. Every task asked for in one tick
 * runs in one pass, and the tasks hold no closure of their own (a driver object per connection
 * implements TickEndTask).
 */
export function atTickEnd(task: TickEndTask): void {
  if (task.tickEndDue) return;
  task.tickEndDue = true;
  due.push(task);
  if (queued) return;
  queued = true;
  // A resolved promise's reaction is a microtask like queueMicrotask's, without its per-call
  // AsyncResource and bound function.
  void RESOLVED.then(deferToNextTick);
}
