/** Hash router: `#/sessions?key=main` → {page:"sessions", params:{key:"main"}}. */
import { readable } from 'svelte/store';

export const PAGES = ['sessions', 'metrics', 'auth', 'safety', 'gateway'] as const;
export type MainPage = (typeof PAGES)[number];
export type Page = MainPage | 'login' | 'setup';
export interface Route {
  page: Page;
  params: Record<string, string>;
}

const KNOWN = new Set<string>([...PAGES, 'login', 'setup']);

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [pathPart, query = ''] = h.split('?', 2);
  const name = pathPart.replace(/^\/+/, '').split('/')[0] ?? '';
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  return { page: (KNOWN.has(name) ? name : 'sessions') as Page, params };
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
  typeof location !== 'undefined' ? parseHash(location.hash) : { page: 'sessions', params: {} },
  (set) => {
    if (typeof window === 'undefined') return;
    const update = () => set(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  },
);
