/**
 * Pages over the flattened fork tree. `GET /api/sessions/tree` has no offset (only `root` and
 * `limit`, oldest first), so the console fetches a bounded number of nodes once and pages the
 * flattened rows here. A page that starts inside a subtree names the ancestors it continues.
 */
import type { FlatTreeRow } from '../../lib/tree';

/** Nodes fetched at most (the API's limit). More sessions than this: the oldest are shown. */
export const TREE_FETCH_LIMIT = 5000;
export const TREE_PAGE_SIZE = 100;

export interface TreePage {
  rows: FlatTreeRow[];
  /** 0-based page actually shown (clamped). */
  page: number;
  pages: number;
  /** The first row's ancestors (root first) when the page starts below depth 0. */
  continues: string[];
}

export function treePage(all: FlatTreeRow[], page: number, size = TREE_PAGE_SIZE): TreePage {
  const pages = Math.max(1, Math.ceil(all.length / size));
  const p = Math.min(Math.max(0, Number.isFinite(page) ? Math.floor(page) : 0), pages - 1);
  const start = p * size;
  const rows = all.slice(start, start + size);
  const continues: string[] = [];
  if (rows.length && rows[0].depth > 0) {
    // Walk back: the nearest earlier row one level up is the parent, and so on to the root.
    let want = rows[0].depth - 1;
    for (let i = start - 1; i >= 0 && want >= 0; i--) {
      if (all[i].depth === want) {
        continues.unshift(all[i].node.session_key);
        want--;
      }
    }
  }
  return { rows, page: p, pages, continues };
}

/** The page holding `key`, or undefined when it is not among the fetched rows. */
export function pageContaining(all: FlatTreeRow[], key: string, size = TREE_PAGE_SIZE): number | undefined {
  if (!key) return undefined;
  const i = all.findIndex((r) => r.node.session_key === key);
  return i < 0 ? undefined : Math.floor(i / size);
}
