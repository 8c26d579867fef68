/** Exponential reconnect backoff with jitter. */
export interface BackoffOptions {
  /** Delay of the first retry before jitter, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Growth per attempt (2 = doubling). */
  factor: number;
  /** Fraction of the delay that is randomised, 0..1 (0.5 = between 50% and 100% of the step). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry).
 * The un-jittered step is `min(maxMs, baseMs * factor^attempt)`; the result lies in
 * `[step * (1 - jitter), step]`, so many clients dropped together do not return in lockstep.
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 0));
  // Cap the exponent so a long outage never overflows to Infinity.
  const step = Math.min(opts.maxMs, opts.baseMs * Math.pow(opts.factor, Math.min(n, 60)));
  const jitter = Math.min(1, Math.max(0, opts.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step * (1 - jitter) + step * jitter * r);
}
