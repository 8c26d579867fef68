/**
 * The Overview's verdict: one line that says whether everything is healthy, from the gateway
 * health, the SLO cards, the firing alerts and the self-check risk. Pure, unit-tested.
 */
import type { SloCard } from './slo';

export type Verdict = 'healthy' | 'degraded' | 'failing' | 'unknown';

export interface OverviewInput {
  /** The bridge connection or the HTTP health probe answered. */
  reachable: boolean;
  cards: SloCard[];
  firing: { slo?: string; severity?: string }[];
  risk: string | null;
}

export interface OverviewVerdict {
  verdict: Verdict;
  reasons: string[];
}

export function overviewVerdict(i: OverviewInput): OverviewVerdict {
  if (!i.reachable) return { verdict: 'failing', reasons: ['the gateway does not answer'] };
  const reasons: string[] = [];
  let verdict: Verdict = 'healthy';
  const worse = (v: Verdict) => {
    const rank: Record<Verdict, number> = { unknown: 0, healthy: 1, degraded: 2, failing: 3 };
    if (rank[v] > rank[verdict]) verdict = v;
  };
  const paging = i.firing.filter((a) => a.severity === 'page');
  if (paging.length) {
    worse('failing');
    reasons.push(`${paging.length} paging alert${paging.length > 1 ? 's' : ''} firing`);
  }
  const tickets = i.firing.length - paging.length;
  if (tickets > 0) {
    worse('degraded');
    reasons.push(`${tickets} alert${tickets > 1 ? 's' : ''} firing`);
  }
  const below = i.cards.filter((c) => c.state === 'at-risk');
  if (below.length) {
    worse('degraded');
    reasons.push(`below target: ${below.map((c) => c.title).join(', ')}`);
  }
  if (i.risk === 'high') {
    worse('degraded');
    reasons.push('the self-check reports a high risk');
  }
  const measured = i.cards.filter((c) => c.state !== 'no-data');
  if (verdict === 'healthy' && i.cards.length > 0 && measured.length === 0) {
    // Nothing measured yet: not a failure, but not proof of health either.
    return { verdict: 'unknown', reasons: ['no SLO has data yet (no request in the window)'] };
  }
  return { verdict, reasons };
}
