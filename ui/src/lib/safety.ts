/**
 * Self-check findings made readable: the page of the console that fixes each one, and the fix
 * text without REST calls (the console does those), config keys and commands marked as code.
 */
export interface FixLink {
  href: string;
  label: string;
}

const LINKS: Record<string, FixLink> = {
  operator_password_missing: { href: '#/auth', label: 'Set the password on the Auth page' },
  api_key_admin_no_expiry: { href: '#/auth', label: 'Rotate or revoke the key on the Auth page' },
  api_key_stale: { href: '#/auth', label: 'Revoke the key on the Auth page' },
  slo_burn_active: { href: '#/metrics', label: 'See the burning SLO on the Metrics page' },
};

/** Where the console fixes a finding; config findings have no page (the config file does). */
export function fixLink(code: string): FixLink | null {
  return LINKS[code] ?? null;
}

export interface Segment {
  code: boolean;
  text: string;
}

/**
 * Splits fix text into prose and code: `backticked` spans, dotted config keys
 * (`auth.login_max_attempts`) and `key = value` settings. REST calls in parentheses are dropped
 * when the console has a page for the fix.
 */
export function fixSegments(fix: string, hasPage: boolean): Segment[] {
  let text = fix;
  if (hasPage) text = text.replace(/\s*\((?:GET|POST|PUT|DELETE|PATCH) \/api\/[^)]*\)/g, '');
  const out: Segment[] = [];
  const re = /`([^`]+)`|((?:[a-z_]+\.)+[a-z_]+(?:\s*=\s*(?:"[^"]*"|[\w.]+))?)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index! > last) out.push({ code: false, text: text.slice(last, m.index) });
    out.push({ code: true, text: m[1] ?? m[2] });
    last = m.index! + m[0].length;
  }
  if (last < text.length) out.push({ code: false, text: text.slice(last) });
  return out;
}

/** The config keys a finding names (for "edit these in microclaw.toml"). */
export function configKeys(text: string): string[] {
  const keys = new Set<string>();
  for (const m of text.matchAll(/\b((?:server|auth|metrics|observability|storage|sessions|agents)\.[a-z_]+)\b/g)) keys.add(m[1]);
  return [...keys];
}

/**
 * A finding's message with any embedded JSON object turned into words:
 * `SLO burn alert firing: {"slo":"x","burn_rate":99.99,"since":1796…}` →
 * `SLO burn alert firing: x · severity page · window 1h+5m · burn rate 100.0× · since 11:20`.
 */
export function readableMessage(message: string, time: (ms: number) => string = (ms) => new Date(ms).toLocaleTimeString()): string {
  const at = message.indexOf('{');
  if (at < 0 || !message.trimEnd().endsWith('}')) return message;
  let obj: unknown;
  try {
    obj = JSON.parse(message.slice(at));
  } catch {
    return message;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return message;
  const parts = Object.entries(obj as Record<string, unknown>).map(([k, v]) => {
    if (k === 'slo') return String(v);
    if (k === 'burn_rate' && typeof v === 'number') return `burn rate ${v.toFixed(1)}×`;
    if ((k === 'since' || k.endsWith('_at') || k === 'ts') && typeof v === 'number' && v > 1e11) return `${k.replace(/_/g, ' ')} ${time(v)}`;
    return `${k.replace(/_/g, ' ')} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
  });
  return `${message.slice(0, at).trimEnd()} ${parts.join(' · ')}`.trim();
}
