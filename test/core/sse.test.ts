import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatComment, formatEvent } from '../../src/core/sse.js';

/** A minimal event-stream parser following HTML §9.2.6, to check what formatEvent produces. */
function parseStream(text: string): { data: string; event: string; id: string | undefined }[] {
  const events: { data: string; event: string; id: string | undefined }[] = [];
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length) events.push({ data: data.join('\n'), event: event || 'message', id });
      data = []; event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }
  return events;
}

describe('SSE formatting', () => {
  it('formats the fields of one event', () => {
    expect(formatEvent({ data: 'message 1', id: 1 })).toBe('id: 1\ndata: message 1\n\n');
    expect(formatEvent({ data: 'a\nb', event: 'tick', retry: 2500 })).toBe('event: tick\nretry: 2500\ndata: a\ndata: b\n\n');
    expect(formatComment()).toBe(':\n\n');
    expect(formatComment('keep-alive')).toBe(': keep-alive\n\n');
  });

  it('refuses ids and event names that would break the stream', () => {
    expect(() => formatEvent({ data: 'x', id: 'a\nb' })).toThrow(TypeError);
    expect(() => formatEvent({ data: 'x', event: 'a\rb' })).toThrow(TypeError);
    expect(() => formatEvent({ data: 'x', id: 'a\0b' })).toThrow(TypeError);
  });

  it('round trips any data through a spec parser (property)', () => {
    fc.assert(fc.property(fc.array(fc.record({ data: fc.string(), id: fc.option(fc.stringMatching(/^[^\r\n\0]*$/), { nil: undefined }) }), { maxLength: 8 }), (events) => {
      const text = events.map((e) => formatEvent(e)).join('');
      const parsed = parseStream(text);
      expect(parsed.map((p) => p.data)).toEqual(events.map((e) => e.data.replace(/\r\n|\r/g, '\n')));
    }), { numRuns: 300 });
  });
});
