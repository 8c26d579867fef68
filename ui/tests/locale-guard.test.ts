import { describe, it, expect } from 'vitest';
import { acceptedTag, guardLocale } from '../src/lib/locale-guard';

describe('locale guard (WebKitGTK under LANG=C reports navigator.language "C")', () => {
  it('knows which tags Intl rejects', () => {
    expect(acceptedTag('en-US')).toBe(true);
    expect(acceptedTag(undefined)).toBe(true);
    expect(acceptedTag('C')).toBe(false);
  });

  it('leaves a valid browser language alone', () => {
    expect(guardLocale('de-DE')).toBe(false);
  });

  it('makes Intl constructors fall back to en-US for a rejected tag, as chart code calls them', () => {
    expect(() => new Intl.NumberFormat('C')).toThrow(RangeError);
    expect(guardLocale('C')).toBe(true);
    expect(new Intl.NumberFormat('C').format(1234.5)).toBe('1,234.5');
    expect(new Intl.DateTimeFormat('C', { timeZone: 'UTC', year: 'numeric' }).format(new Date(0))).toBe('1970');
    // Still the real constructors underneath.
    expect(new Intl.NumberFormat('de-DE').format(1234.5)).toBe('1.234,5');
    expect(new Intl.NumberFormat('en-US')).toBeInstanceOf(Intl.NumberFormat);
  });
});
