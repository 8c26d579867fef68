/** The fork tree: nodes whose parent is missing (deleted) are shown as roots ("orphans"). */
import type { TreeNodeDto } from './api';

export interface FlatTreeRow {
  node: TreeNodeDto;
  depth: number;
  orphan: boolean;
  childCount: number;
}

export function flattenTree(nodes: TreeNodeDto[]): FlatTreeRow[] {
  const byKey = new Map<string, TreeNodeDto>();
  for (const n of nodes) byKey.set(n.session_key, n);
  const children = new Map<string, TreeNodeDto[]>();
  const roots: TreeNodeDto[] = [];
  for (const n of byKey.values()) {
    const p = n.parent_session_key;
    if (p && p !== n.session_key && byKey.has(p)) {
      let list = children.get(p);
      if (!list) children.set(p, (list = []));
      list.push(n);
    } else roots.push(n);
  }
  const byCreated = (a: TreeNodeDto, b: TreeNodeDto) => a.created_at - b.created_at || a.session_key.localeCompare(b.session_key);
  roots.sort(byCreated);
  const out: FlatTreeRow[] = [];
  const visited = new Set<string>();
  // Iterative DFS so a deep chain of forks cannot overflow the stack.
  const stack: { node: TreeNodeDto; depth: number }[] = roots
    .slice()
    .reverse()
    .map((node) => ({ node, depth: 0 }));
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (visited.has(node.session_key)) continue;
    visited.add(node.session_key);
    const kids = (children.get(node.session_key) ?? []).slice().sort(byCreated);
    out.push({ node, depth, orphan: depth === 0 && !!node.parent_session_key, childCount: kids.length });
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i], depth: depth + 1 });
  }
  // Members of a parent cycle (never produced by the server, but cheap to survive) become roots.
  for (const n of byKey.values()) {
    if (!visited.has(n.session_key)) out.push({ node: n, depth: 0, orphan: true, childCount: 0 });
  }
  return out;
}
