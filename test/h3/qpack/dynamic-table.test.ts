import { describe, expect, it } from 'vitest';
import { DynamicTable, entrySize } from '../../../src/h3/qpack/dynamic-table.js';

describe('DynamicTable (RFC 9204 §3.2)', () => {
  it('sizes entries as name + value + 32 (§3.2.1)', () => {
    expect(entrySize(':authority', 'www.example.com')).toBe(57);
    expect(entrySize('', '')).toBe(32);
  });

  it('starts with capacity 0 and refuses inserts until a capacity is set (§3.2.2)', () => {
    const table = new DynamicTable();
    expect(table.insert('a', 'b')).toBe(-1);
    expect(table.setCapacity(100)).toBe(true);
    expect(table.insert('a', 'b')).toBe(0);
    expect(table.insert('x'.repeat(60), 'y'.repeat(10))).toBe(-1); // 102 > 100
  });

  it('gives absolute indices in insertion order and evicts the oldest first', () => {
    const table = new DynamicTable();
    table.setCapacity(3 * 34);
    for (const [i, v] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      expect(table.insert('n', v)).toBe(i);
    }
    // Three 34-byte entries fit: 2, 3, 4 remain.
    expect([table.droppedCount, table.insertCount, table.length, table.size]).toEqual([2, 5, 3, 102]);
    expect(table.get(1)).toBeUndefined();
    expect(table.get(2)).toEqual({ name: 'n', value: 'c', size: 34 });
    expect(table.get(5)).toBeUndefined();
    expect(table.findExact('n', 'e')).toBe(4);
    expect(table.findExact('n', 'a')).toBe(-1);
    expect(table.findName('n')).toBe(4);
  });

  it('keeps the table unchanged when an entry that must go is not evictable', () => {
    const table = new DynamicTable();
    table.setCapacity(68);
    table.insert('n', 'a');
    table.insert('n', 'b');
    expect(table.evictionsNeededFor(34)).toBe(1);
    expect(table.insert('n', 'c', (abs) => abs !== 0)).toBe(-1);
    expect(table.length).toBe(2);
    expect(table.setCapacity(34, () => false)).toBe(false);
    expect(table.capacity).toBe(68);
    // Reducing the capacity evicts (§3.2.2); 0 empties the table.
    expect(table.setCapacity(34)).toBe(true);
    expect([table.droppedCount, table.size]).toEqual([1, 34]);
    expect(table.setCapacity(0)).toBe(true);
    expect([table.length, table.size]).toEqual([0, 0]);
    expect(table.findName('n')).toBe(-1);
  });

  it('keeps lookups right across many evictions', () => {
    const table = new DynamicTable();
    table.setCapacity(10 * 40);
    for (let i = 0; i < 1000; i++) table.insert(`n${i % 7}`, `v${i}`.padEnd(6, '-'));
    expect(table.insertCount).toBe(1000);
    expect(table.length).toBe(10);
    for (let abs = table.droppedCount; abs < table.insertCount; abs++) {
      expect(table.get(abs)!.value).toBe(`v${abs}`.padEnd(6, '-'));
    }
    expect(table.findName('n0')).toBe(994);
  });
});
