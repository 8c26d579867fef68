/** Keyboard shortcuts: `/` search, g then s/m/a/f/g to switch page, Alt+1..5. */
import { PAGES, type MainPage } from './router';

export type ShortcutAction = { kind: 'goto'; page: MainPage } | { kind: 'search' } | { kind: 'prefix' } | null;

export interface KeyLike {
  key: string;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  /** True when focus is in an input, textarea or contenteditable. */
  inEditable?: boolean;
}

const G_MAP: Record<string, MainPage> = { s: 'sessions', m: 'metrics', a: 'auth', f: 'safety', g: 'gateway' };

export function shortcutFor(ev: KeyLike, gPending: boolean): ShortcutAction {
  if (ev.altKey && !ev.ctrlKey && !ev.metaKey && /^[1-5]$/.test(ev.key)) {
    return { kind: 'goto', page: PAGES[Number(ev.key) - 1] };
  }
  if (ev.inEditable || ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  if (gPending && G_MAP[ev.key]) return { kind: 'goto', page: G_MAP[ev.key] };
  if (ev.key === 'g') return { kind: 'prefix' };
  if (ev.key === '/') return { kind: 'search' };
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
