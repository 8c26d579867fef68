/**
 * Fork names the UI proposes (decisions.md): key `<root key>-fork-<8 hex>` — a fork of a fork
 * keeps the root's name instead of growing a chain — and label `<parent label> (fork)` unless the
 * parent's label already ends so. Both stay editable in the fork form.
 */
const FORK_SUFFIX = /(?:-fork-[0-9a-f]{8})+$/;

export function rootKey(key: string): string {
  const root = key.replace(FORK_SUFFIX, '');
  return root === '' ? key : root;
}

export function randomHex8(random: () => number = Math.random): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

export function proposeForkKey(sourceKey: string, hex = randomHex8()): string {
  return `${rootKey(sourceKey)}-fork-${hex}`;
}

export function proposeForkLabel(parentLabel: string | null | undefined, sourceKey: string): string {
  const base = parentLabel?.trim() || rootKey(sourceKey);
  return /\s\(fork\)$/.test(base) ? base : `${base} (fork)`;
}

/** Checks an edited key: non-empty, no spaces at the ends, different from the source. */
export function forkKeyError(key: string, sourceKey: string): string {
  if (key.trim() === '') return 'Enter a key for the new session.';
  if (key !== key.trim()) return 'The key must not start or end with a space.';
  if (key === sourceKey) return 'The fork needs a key of its own (not the source key).';
  if (key.length > 256) return 'The key is too long (at most 256 characters).';
  return '';
}
