/**
 * Marks the searched words in a `searchSnippet` (plain text from the server's FTS5 search) as
 * segments, so the list renders them as text with `<mark>` — never as HTML. Matching is like the
 * server's: case and diacritics fold (`creme` marks `Crème`) and a word matches at the start of
 * a word in the snippet (`deploy` marks `deployment`).
 */
export interface Segment {
  text: string;
  hit: boolean;
}

/** The query's words: runs of letters and digits, folded, longest first (so `ab` does not split `abc`). */
export function queryWords(query: string): string[] {
  const words = (query.match(/[\p{L}\p{N}]+/gu) ?? []).map(fold).filter((w) => w.length > 0);
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const isWordChar = (c: string | undefined) => !!c && /[\p{L}\p{N}]/u.test(c);

export function highlightSegments(snippet: string, query: string): Segment[] {
  const words = queryWords(query);
  if (!snippet) return [];
  if (words.length === 0) return [{ text: snippet, hit: false }];
  // Fold the snippet one code point at a time, remembering where each folded char came from.
  const chars = Array.from(snippet);
  let folded = '';
  const origin: number[] = []; // folded index → index into `chars`
  chars.forEach((c, i) => {
    const f = fold(c);
    folded += f;
    for (let k = 0; k < f.length; k++) origin.push(i);
  });
  const hit = new Array<boolean>(chars.length).fill(false);
  for (let at = 0; at < folded.length; at++) {
    if (isWordChar(folded[at - 1]) && origin[at - 1] !== origin[at]) continue; // not a word start
    if (at > 0 && origin[at - 1] === origin[at]) continue; // inside one folded char
    const w = words.find((w) => folded.startsWith(w, at));
    if (!w) continue;
    for (let k = at; k < at + w.length; k++) hit[origin[k]] = true;
  }
  const out: Segment[] = [];
  chars.forEach((c, i) => {
    const last = out[out.length - 1];
    if (last && last.hit === hit[i]) last.text += c;
    else out.push({ text: c, hit: hit[i] });
  });
  return out;
}
