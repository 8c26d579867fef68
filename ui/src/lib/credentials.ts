/** Where credentials come from: the desktop shell's launch token, or the browser's login cookies. */
declare global {
  interface Window {
    __MICROCLAW_LAUNCH_TOKEN__?: string;
    __TAURI__?: any;
  }
}

/** The desktop shell injects a per-launch token; its presence means "desktop mode". */
export function launchToken(): string | undefined {
  if (typeof window === 'undefined') return undefined;
  const t = window.__MICROCLAW_LAUNCH_TOKEN__;
  return typeof t === 'string' && t.trim() !== '' ? t.trim() : undefined;
}

/** Reads one cookie by name from a `document.cookie`-style string. */
export function readCookie(name: string, cookieString?: string): string | undefined {
  const src = cookieString ?? (typeof document !== 'undefined' ? document.cookie : '');
  for (const part of src.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}
