import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../src/lib/backoff';

describe('reconnect backoff', () => {
  const opts = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

  it('doubles per attempt up to the cap (upper bound = random 1)', () => {
    const top = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, opts, () => 1));
    expect(top).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('jitter keeps every delay within [step*(1-jitter), step]', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const step = Math.min(30_000, 500 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, opts);
        expect(d).toBeGreaterThanOrEqual(step * 0.5);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
    expect(backoffDelay(3, opts, () => 0)).toBe(2000);
  });

  it('spreads clients that dropped together', () => {
    const values = new Set(Array.from({ length: 20 }, (_, i) => backoffDelay(4, opts, () => i / 20)));
    expect(values.size).toBeGreaterThan(10);
  });

  it('survives nonsense input without NaN or Infinity', () => {
    for (const n of [-5, NaN, Infinity, 1e9]) {
      const d = backoffDelay(n, DEFAULT_BACKOFF, () => 0.5);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
    }
  });
});
