/** Transcript history pages (`chat.history`), merged by message id. */
export interface HistoryMessage {
  id: number;
  role: string;
  content: unknown;
  timestamp: number;
  /** Set on a run that ended early: `aborted | error | budget | runaway | timeout`. */
  stopReason?: string;
  errorMessage?: string;
}

/**
 * Merges the newest page into what is shown. When the newest page is the whole history
 * (`hasMore` false) it replaces everything (so a reset empties the view); otherwise older
 * messages already loaded are kept below the page's first id.
 */
export function mergeHistory(shown: HistoryMessage[], newest: HistoryMessage[], hasMore: boolean): HistoryMessage[] {
  if (!hasMore || newest.length === 0) return [...newest].sort((a, b) => a.id - b.id);
  const firstNew = Math.min(...newest.map((m) => m.id));
  const older = shown.filter((m) => m.id < firstNew);
  return [...older, ...newest].sort((a, b) => a.id - b.id);
}
