// Issue 17's last items, logic only: search-snippet marking, fork-tree pages, export names.
import { describe, expect, it } from 'vitest';
import { highlightSegments, queryWords } from '../src/pages/sessions/snippet';
import { pageContaining, treePage } from '../src/pages/sessions/tree-pages';
import { exportFileName, exportUrl, fileNameFromDisposition } from '../src/pages/sessions/session-export';
import { flattenTree } from '../src/lib/tree';
import type { TreeNodeDto } from '../src/lib/api';

const marked = (snippet: string, q: string) =>
  highlightSegments(snippet, q)
    .map((s) => (s.hit ? `[${s.text}]` : s.text))
    .join('');

describe('search snippet marks', () => {
  it('marks each query word at a word start, as a prefix, folding case and diacritics', () => {
    expect(marked('the deployment of Crème brûlée', 'deploy creme')).toBe('the [deploy]ment of [Crème] brûlée');
    expect(marked('Zebra zebras ZEBRA', 'zebra')).toBe('[Zebra] [zebra]s [ZEBRA]');
    // Not inside a word: "ploy" does not mark "deploy".
    expect(marked('deploy', 'ploy')).toBe('deploy');
  });
  it('keeps the text exactly (segments join back to the snippet) and never treats it as markup', () => {
    const s = '<b>x</b> & "quoted" — ünïcödé <script>';
    const segs = highlightSegments(s, 'script unicode');
    expect(segs.map((x) => x.text).join('')).toBe(s);
    expect(marked(s, 'script unicode')).toBe('<b>x</b> & "quoted" — [ünïcödé] <[script]>');
  });
  it('FTS syntax in the query is plain words; an empty query marks nothing', () => {
    expect(queryWords('"alpha" AND beta* (gamma)')).toEqual(['alpha', 'gamma', 'beta', 'and']);
    expect(marked('alpha and beta', '')).toBe('alpha and beta');
    expect(highlightSegments('', 'x')).toEqual([]);
  });
  it('prefers the longer word where two share a start', () => {
    expect(marked('abcdef', 'ab abcd')).toBe('[abcd]ef');
  });
});

const node = (key: string, parent: string | null, created: number): TreeNodeDto => ({
  session_key: key, parent_session_key: parent, fork_point: parent ? 1 : null, label: null,
  created_at: created, updated_at: created, message_count: 1,
});

describe('fork tree pages (client-side: the tree API has no offset)', () => {
  // root r0 with a chain r0 > a > b > c, then roots r1..r4.
  const nodes = [node('r0', null, 0), node('a', 'r0', 1), node('b', 'a', 2), node('c', 'b', 3)];
  for (let i = 1; i <= 4; i++) nodes.push(node(`r${i}`, null, 10 + i));
  const rows = flattenTree(nodes);

  it('cuts the flattened rows into pages and clamps the page number', () => {
    const p0 = treePage(rows, 0, 3);
    expect(p0.rows.map((r) => r.node.session_key)).toEqual(['r0', 'a', 'b']);
    expect(p0.pages).toBe(3);
    expect(treePage(rows, 99, 3).page).toBe(2);
    expect(treePage(rows, -4, 3).page).toBe(0);
    expect(treePage(rows, Number.NaN, 3).page).toBe(0);
    expect(treePage([], 0, 3)).toEqual({ rows: [], page: 0, pages: 1, continues: [] });
  });
  it('a page starting inside a subtree names its ancestors, root first', () => {
    const p1 = treePage(rows, 1, 3);
    expect(p1.rows.map((r) => r.node.session_key)).toEqual(['c', 'r1', 'r2']);
    expect(p1.continues).toEqual(['r0', 'a', 'b']);
    expect(treePage(rows, 2, 3).continues).toEqual([]);
  });
  it('finds the page holding a session', () => {
    expect(pageContaining(rows, 'c', 3)).toBe(1);
    expect(pageContaining(rows, 'r4', 3)).toBe(2);
    expect(pageContaining(rows, 'gone', 3)).toBeUndefined();
    expect(pageContaining(rows, '', 3)).toBeUndefined();
  });
});

describe('session export', () => {
  it('links the export route with the key encoded', () => {
    expect(exportUrl('team/a b', 'md')).toBe('/api/sessions/export?session_key=team%2Fa+b&format=md');
    expect(exportUrl('main', 'json')).toBe('/api/sessions/export?session_key=main&format=json');
  });
  it('suggests a safe file name', () => {
    expect(exportFileName('main', 'md')).toBe('main.md');
    expect(exportFileName('agent:x/../y', 'json')).toBe('agent_x_.._y.json');
    expect(exportFileName('..hidden', 'md')).toBe('_hidden.md');
    expect(exportFileName('', 'md')).toBe('session.md');
  });
  it('reads the server-given name from Content-Disposition', () => {
    expect(fileNameFromDisposition('attachment; filename="main.md"')).toBe('main.md');
    expect(fileNameFromDisposition("attachment; filename*=UTF-8''cr%C3%A8me.json")).toBe('crème.json');
    expect(fileNameFromDisposition('attachment')).toBeUndefined();
    expect(fileNameFromDisposition(null)).toBeUndefined();
  });
});
