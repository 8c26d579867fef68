/**
 * The Logs page's model: lines of `GET /api/logs` (`<RFC 3339 ts> <LEVEL> <target>: <message>`)
 * parsed, filtered by minimum level, and kept in a bounded buffer continued by cursor.
 */
import type { LogsTail } from './api';

export const LEVELS = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
export type Level = (typeof LEVELS)[number];

export interface LogLine {
  /** Position in the buffer (stable key for rendering). */
  n: number;
  ts: string;
  level: Level | null;
  target: string;
  message: string;
  raw: string;
}

const LINE = /^(\S+)\s+(ERROR|WARN|INFO|DEBUG|TRACE)\s+(\S+?):(?:\s(.*)|$)/s;

/** Splits one line; a line in another shape keeps its text as the message (level unknown). */
export function parseLogLine(raw: string, n = 0): LogLine {
  const m = LINE.exec(raw);
  if (!m) return { n, ts: '', level: null, target: '', message: raw, raw };
  return { n, ts: m[1], level: m[2] as Level, target: m[3], message: m[4] ?? '', raw };
}

/** True when `level` is at least as severe as `min` (unknown levels always pass). */
export function atLeast(level: Level | null, min: Level): boolean {
  if (level == null) return true;
  return LEVELS.indexOf(level) <= LEVELS.indexOf(min);
}

export interface LogView {
  lines: LogLine[];
  /** The next cursor to ask for (undefined before the first answer). */
  cursor: number | undefined;
  file: string;
  /** Notices for the operator: lines skipped by the server, or a cursor that fell out of the ring. */
  notices: string[];
  next: number;
}

export function emptyLogView(): LogView {
  return { lines: [], cursor: undefined, file: '', notices: [], next: 1 };
}

/** Appends one answer; keeps the newest `cap` lines. */
export function applyTail(view: LogView, tail: LogsTail, cap = 2000): LogView {
  const notices = [...view.notices];
  if (tail.reset && view.cursor !== undefined) notices.push('The log ring moved past the last line shown: some lines were missed.');
  if (tail.truncated && view.cursor !== undefined) notices.push('More lines arrived than one read carries: older ones were skipped.');
  let next = view.next;
  const added = (tail.lines ?? []).map((l) => parseLogLine(l, next++));
  const lines = [...view.lines, ...added].slice(-cap);
  return {
    lines,
    cursor: typeof tail.cursor === 'number' ? tail.cursor : view.cursor,
    file: tail.file ?? view.file,
    notices: notices.slice(-3),
    next,
  };
}
