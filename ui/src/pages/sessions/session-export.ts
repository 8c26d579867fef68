/**
 * Session export (`GET /api/sessions/export?session_key=&format=md|json`). In the browser the
 * cookie rides on a plain download link (a read needs no CSRF header). With a bearer token (the
 * desktop shell) a link cannot carry the credential, so the file is fetched and handed to
 * `saveFile` — the native save dialog in the desktop app, as the Metrics export does.
 */
import type { SessionExportFormat } from '../../lib/api';

export const EXPORT_FORMATS: { format: SessionExportFormat; label: string; mime: string }[] = [
  { format: 'md', label: 'Markdown', mime: 'text/markdown' },
  { format: 'json', label: 'JSON', mime: 'application/json' },
];

export function exportUrl(key: string, format: SessionExportFormat): string {
  const q = new URLSearchParams({ session_key: key, format });
  return `/api/sessions/export?${q.toString()}`;
}

/** A file name safe on every OS: the key with anything outside [A-Za-z0-9._-] as `_`. */
export function exportFileName(key: string, format: SessionExportFormat): string {
  const base = key.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'session';
  return `${base.slice(0, 120)}.${format}`;
}

/** The name from `Content-Disposition` (`filename*=UTF-8''…` or `filename="…"`), if any. */
export function fileNameFromDisposition(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through to the plain form */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(header);
  const name = (plain?.[1] ?? plain?.[2])?.trim();
  return name ? name : undefined;
}
