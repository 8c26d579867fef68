/**
 * Native features through the desktop shell (`window.__TAURI__`) when present, with browser
 * fallbacks: a download link instead of a save dialog, an in-page toast instead of a notification.
 */
import { toast } from './toasts';

function tauri(): any {
  return typeof window !== 'undefined' ? window.__TAURI__ : undefined;
}

export function isDesktop(): boolean {
  return !!tauri();
}

/**
 * Saves bytes under a suggested file name. Desktop: the shell command `save_export`
 * ({filename, data: number[]}) opens a native save dialog and returns the chosen path or null.
 * Browser: a download link. Returns where it went, or null when the user cancelled.
 */
export async function saveFile(filename: string, bytes: Uint8Array, mime: string): Promise<string | null> {
  const t = tauri();
  if (t?.core?.invoke) {
    const path = await t.core.invoke('save_export', { filename, data: Array.from(bytes) });
    return typeof path === 'string' ? path : null;
  }
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return filename;
}

/** A system notification in the desktop app; a toast in the browser. */
export async function notify(title: string, body: string): Promise<void> {
  const n = tauri()?.notification;
  if (n?.sendNotification) {
    try {
      let granted = n.isPermissionGranted ? await n.isPermissionGranted() : true;
      if (!granted && n.requestPermission) granted = (await n.requestPermission()) === 'granted';
      if (granted) {
        n.sendNotification({ title, body });
        return;
      }
    } catch {
      /* fall through to the toast */
    }
  }
  toast(`${title}: ${body}`, 'error');
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (http on a LAN address): select-and-copy fallback.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand?.('copy') ?? false;
    ta.remove();
    return ok;
  }
}
