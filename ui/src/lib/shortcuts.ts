/** Keyboard shortcuts: `?` help, `/` search, g then a letter to switch page, Alt+1..8. */
import { PAGES, type MainPage } from './router';

export type ShortcutAction =
  | { kind: 'goto'; page: MainPage }
  | { kind: 'search' }
  | { kind: 'help' }
  | { kind: 'close' }
  | { kind: 'prefix' }
  | null;

export interface KeyLike {
  key: string;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  /** True when focus is in an input, textarea or contenteditable. */
  inEditable?: boolean;
}

/** Alt+digit reaches the first nine pages (a regex class `[1-10]` would match only 0 and 1). */
const ALT_PAGES = Math.min(PAGES.length, 9);

export const G_MAP: Record<string, MainPage> = {
  o: 'overview', s: 'sessions', m: 'metrics', u: 'audit', l: 'logs', a: 'auth', f: 'safety', g: 'gateway', c: 'scheduler',
};

/** What the help dialog lists (one source with the handler above). */
export function shortcutList(): { keys: string[]; what: string }[] {
  return [
    { keys: ['?'], what: 'show this help' },
    { keys: ['/'], what: 'focus the search box of the page' },
    ...Object.entries(G_MAP).map(([k, p]) => ({ keys: ['g', k], what: `go to ${p[0].toUpperCase()}${p.slice(1)}` })),
    { keys: [`Alt+1…${ALT_PAGES}`], what: 'go to the n-th page of the navigation' },
    { keys: ['Ctrl+Enter'], what: 'send the message (in the composer; ⌘+Enter on a Mac)' },
    { keys: ['Esc'], what: 'close this help' },
  ];
}

export function shortcutFor(ev: KeyLike, gPending: boolean): ShortcutAction {
  const digits = new RegExp(`^[1-${ALT_PAGES}]$`);
  if (ev.altKey && !ev.ctrlKey && !ev.metaKey && digits.test(ev.key)) {
    return { kind: 'goto', page: PAGES[Number(ev.key) - 1] };
  }
  if (ev.key === 'Escape') return { kind: 'close' };
  if (ev.inEditable || ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  if (gPending && G_MAP[ev.key]) return { kind: 'goto', page: G_MAP[ev.key] };
  if (ev.key === 'g') return { kind: 'prefix' };
  if (ev.key === '/') return { kind: 'search' };
  if (ev.key === '?') return { kind: 'help' };
  return null;
}

/** Ctrl+Enter or Cmd+Enter sends from the composer. */
export function isSendShortcut(ev: KeyLike): boolean {
  return ev.key === 'Enter' && (!!ev.ctrlKey || !!ev.metaKey);
}

export function isEditableTarget(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}
