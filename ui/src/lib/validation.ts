/** Form rules, mirrored from the server so the user hears about a mistake before a round trip. */
export const SCOPES = ['operator.read', 'operator.write', 'operator.approvals', 'operator.admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const PASSWORD_MIN = 12;

export interface KeyForm {
  label: string;
  scopes: string[];
  /** Blank = never expires. */
  expiresDays: string;
}
export type FieldErrors<K extends string> = Partial<Record<K, string>>;

export function validateKeyForm(f: KeyForm): {
  errors: FieldErrors<'label' | 'scopes' | 'expiresDays'>;
  value?: { label: string; scopes: string[]; expiresDays?: number };
} {
  const errors: FieldErrors<'label' | 'scopes' | 'expiresDays'> = {};
  const label = f.label.trim();
  if (!label) errors.label = 'Give the key a label, e.g. "ci" or "grafana".';
  else if (label.length > 100) errors.label = 'Keep the label under 100 characters.';
  const unknown = f.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) errors.scopes = `Unknown scope ${unknown.join(', ')}; use ${SCOPES.join(', ')}.`;
  else if (f.scopes.length === 0) errors.scopes = 'Pick at least one scope (operator.read to only look).';
  let expiresDays: number | undefined;
  const raw = f.expiresDays.trim();
  if (raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 3650) errors.expiresDays = 'Expiry is a whole number of days from 1 to 3650, or blank for none.';
    else expiresDays = n;
  }
  if (Object.keys(errors).length) return { errors };
  const scopes = [...new Set(f.scopes)].sort();
  return { errors, value: { label, scopes, expiresDays } };
}

export function validatePassword(password: string, confirm: string): string | null {
  if ([...password].length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters (${[...password].length} so far).`;
  if (password.trim() === '') return 'The password cannot be only spaces.';
  if (password !== confirm) return 'The two passwords differ.';
  return null;
}
