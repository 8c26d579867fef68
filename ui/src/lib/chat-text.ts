/** Text extraction from the message shapes the bridge sends (string, {content:[{type,text}]}, {text}). */
export function messageText(message: unknown): string {
  if (message == null) return '';
  if (typeof message === 'string') return message;
  if (typeof message !== 'object') return String(message);
  const m = message as { content?: unknown; text?: unknown };
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) {
    return m.content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
          return (part as { text: string }).text;
        }
        return '';
      })
      .join('');
  }
  if (typeof m.text === 'string') return m.text;
  return '';
}

export interface TextBlock {
  kind: 'text' | 'table';
  text: string;
}

/** A line that is part of a column layout: a Markdown table row, or columns split by 2+ spaces. */
function tabular(line: string): boolean {
  return /^\s*\|.*\|\s*$/.test(line) || /\S {2,}\S/.test(line.trim());
}

/**
 * Splits a reply into prose and column blocks (two or more tabular lines in a row, like the
 * built-in agent's `/help` list), so columns can be shown in a monospace font and stay aligned.
 */
export function textBlocks(text: string): TextBlock[] {
  const lines = text.split('\n');
  const out: TextBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    let j = i;
    while (j < lines.length && tabular(lines[j])) j++;
    if (j - i >= 2) {
      out.push({ kind: 'table', text: lines.slice(i, j).join('\n') });
      i = j;
      continue;
    }
    const start = i;
    i = Math.max(j, i + 1);
    // Extend prose until the next run of 2+ tabular lines.
    while (i < lines.length && !(tabular(lines[i]) && i + 1 < lines.length && tabular(lines[i + 1]))) i++;
    const chunk = lines.slice(start, i).join('\n');
    const prev = out.at(-1);
    if (prev?.kind === 'text') prev.text += `\n${chunk}`;
    else out.push({ kind: 'text', text: chunk });
  }
  return out;
}

/** Why a stored assistant message ended early (decisions.md: killed and failed runs are kept). */
export type StopReason = 'aborted' | 'error' | 'budget' | 'runaway' | 'timeout';
const STOP_TEXT: Record<string, string> = {
  aborted: 'Stopped: the run was killed',
  error: 'The run failed',
  budget: 'Stopped: the run hit its budget',
  runaway: 'Stopped: the run looped (runaway guard)',
  timeout: 'Stopped: the run timed out',
};

/** A marker for a run's end, or null for a normal reply. */
export function stopMarker(stopReason: unknown, errorMessage?: unknown): { kind: 'aborted' | 'error'; text: string } | null {
  if (typeof stopReason !== 'string' || stopReason === '' || stopReason === 'stop' || stopReason === 'end_turn') {
    return typeof errorMessage === 'string' && errorMessage ? { kind: 'error', text: `The run failed: ${errorMessage}` } : null;
  }
  const base = STOP_TEXT[stopReason] ?? `Stopped (${stopReason})`;
  const kind = stopReason === 'aborted' ? 'aborted' : 'error';
  return { kind, text: typeof errorMessage === 'string' && errorMessage ? `${base}: ${errorMessage}` : base };
}
