import { describe, expect, it } from 'vitest';
import { flattenTree } from '../src/lib/tree';
import { mergeHistory } from '../src/lib/history';

const node = (k: string, parent: string | null, created: number) => ({
  session_key: k, parent_session_key: parent, fork_point: parent ? 2 : null, label: null, created_at: created, updated_at: created, message_count: 1,
});

describe('fork tree', () => {
  it('nests forks under their parent and shows forks of deleted sessions as orphan roots', () => {
    const rows = flattenTree([node('main-fork-b', 'main', 3), node('main', null, 1), node('x-fork', 'x-deleted', 2), node('main-fork-a', 'main', 2), node('deep', 'main-fork-a', 4)]);
    expect(rows.map((r) => [r.node.session_key, r.depth, r.orphan])).toEqual([
      ['main', 0, false], ['main-fork-a', 1, false], ['deep', 2, false], ['main-fork-b', 1, false], ['x-fork', 0, true],
    ]);
    expect(rows[0].childCount).toBe(2);
  });
  it('survives a parent cycle and a 10k-deep chain', () => {
    expect(flattenTree([node('a', 'b', 1), node('b', 'a', 2)]).length).toBe(2);
    const chain = Array.from({ length: 10_000 }, (_, i) => node(`s${i}`, i ? `s${i - 1}` : null, i));
    const rows = flattenTree(chain);
    expect(rows.length).toBe(10_000);
    expect(rows.at(-1)!.depth).toBe(9_999);
  });
});

describe('history merge', () => {
  const m = (id: number) => ({ id, role: 'user', content: [{ type: 'text', text: `m${id}` }], timestamp: id });
  it('keeps older loaded pages when the newest page has more before it', () => {
    expect(mergeHistory([m(1), m(2), m(3), m(4)], [m(3), m(4), m(5)], true).map((x) => x.id)).toEqual([1, 2, 3, 4, 5]);
  });
  it('replaces everything when the newest page is the whole history (after a reset)', () => {
    expect(mergeHistory([m(1), m(2)], [], false)).toEqual([]);
    expect(mergeHistory([m(1), m(2)], [m(7)], false).map((x) => x.id)).toEqual([7]);
  });
});
