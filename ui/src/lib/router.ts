/**
 * Hash router: `#/sessions?key=main` → {page:"sessions", params:{key:"main"}}. An empty hash is
 * the Overview; an unknown page is `notfound` (with the path it was asked for), never Sessions.
 */
import { readable } from 'svelte/store';

export const PAGES = ['overview', 'sessions', 'metrics', 'audit', 'logs', 'auth', 'safety', 'gateway', 'fleet', 'scheduler', 'approvals', 'cost', 'alerts', 'incidents'] as const;
export type MainPage = (typeof PAGES)[number];
export type Page = MainPage | 'login' | 'setup' | 'notfound';
export const HOME: MainPage = 'overview';
export interface Route {
  page: Page;
  params: Record<string, string>;
}

const KNOWN = new Set<string>([...PAGES, 'login', 'setup']);

/** True for a page of the shell's navigation (a safe `next` after login). */
export function isMainPage(p: string | undefined): p is MainPage {
  return (PAGES as readonly string[]).includes(p ?? '');
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [pathPart, query = ''] = h.split('?', 2);
  const name = pathPart.replace(/^\/+/, '').split('/')[0] ?? '';
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  if (name === '') return { page: HOME, params };
  if (!KNOWN.has(name)) return { page: 'notfound', params: { ...params, path: pathPart } };
  return { page: name as Page, params };
}

export function formatHash(page: Page, params: Record<string, string | undefined> = {}): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, v);
  const qs = s.toString();
  return `#/${page}${qs ? `?${qs}` : ''}`;
}

export function navigate(page: Page, params: Record<string, string | undefined> = {}, replace = false): void {
  const target = formatHash(page, params);
  if (location.hash === target) return;
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = target;
}

export const route = readable<Route>(
  typeof location !== 'undefined' ? parseHash(location.hash) : { page: HOME, params: {} },
  (set) => {
    if (typeof window === 'undefined') return;
    const update = () => set(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  },
);
