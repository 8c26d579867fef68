/**
 * Assembles `chat` events (protocol 4: `deltaText` + cumulative `message`, seq from 1) into
 * one live run per `runId`. Tolerates duplicate and out-of-order frames: a duplicate seq is
 * ignored, chunks are ordered by seq, and a terminal state (final/error/aborted) is sticky.
 */
import { writable, type Readable } from 'svelte/store';
import { messageText } from './chat-text';

export type RunState = 'delta' | 'final' | 'error' | 'aborted';

export interface ChatEventPayload {
  runId?: string;
  sessionKey?: string;
  key?: string;
  seq?: number;
  state?: string;
  message?: unknown;
  deltaText?: string;
  errorMessage?: string;
  stopReason?: string;
}

export interface LiveRun {
  runId: string;
  sessionKey: string;
  state: RunState;
  text: string;
  errorMessage?: string;
  /** From the terminal event (`aborted`, `error`, `timeout`, …). */
  stopReason?: string;
  /** Highest seq applied so far. */
  lastSeq: number;
  /** Order in which runs were first seen, for stable display. */
  order: number;
  /** Frames dropped as duplicates (diagnostics). */
  duplicates: number;
}

interface RunAccumulator {
  run: LiveRun;
  seen: Set<number>;
  chunks: Map<number, string>;
  /** Cumulative text carried by the highest-seq frame that had one. */
  cumulative: { seq: number; text: string } | null;
}

const TERMINAL: ReadonlySet<string> = new Set(['final', 'error', 'aborted']);

export class StreamAssembler {
  private runs = new Map<string, RunAccumulator>();
  private counter = 0;

  /** Applies one event; returns the run's new snapshot, or null when the frame was unusable. */
  apply(ev: ChatEventPayload): LiveRun | null {
    if (!ev || typeof ev.runId !== 'string' || ev.runId === '') return null;
    const state = (ev.state ?? 'delta') as string;
    if (state !== 'delta' && !TERMINAL.has(state)) return null;
    let acc = this.runs.get(ev.runId);
    if (!acc) {
      acc = {
        run: {
          runId: ev.runId,
          sessionKey: ev.sessionKey ?? ev.key ?? 'main',
          state: 'delta',
          text: '',
          lastSeq: 0,
          order: this.counter++,
          duplicates: 0,
        },
        seen: new Set(),
        chunks: new Map(),
        cumulative: null,
      };
      this.runs.set(ev.runId, acc);
    }
    const run = acc.run;
    const seq = typeof ev.seq === 'number' && Number.isFinite(ev.seq) ? ev.seq : undefined;
    if (seq !== undefined) {
      if (acc.seen.has(seq)) {
        run.duplicates += 1;
        return { ...run };
      }
      acc.seen.add(seq);
    }
    if (TERMINAL.has(run.state)) {
      // A late delta after the terminal frame adds nothing: the final text is complete.
      return { ...run };
    }
    const s = seq ?? run.lastSeq + 1;
    if (state === 'delta') {
      if (typeof ev.deltaText === 'string') acc.chunks.set(s, ev.deltaText);
      if (ev.message !== undefined) {
        const text = messageText(ev.message);
        if (!acc.cumulative || s > acc.cumulative.seq) acc.cumulative = { seq: s, text };
        // Protocol 3 deltas carry only the chunk in `message` and no deltaText.
        if (typeof ev.deltaText !== 'string' && !acc.chunks.has(s)) acc.chunks.set(s, text);
      }
      run.lastSeq = Math.max(run.lastSeq, s);
      run.text = this.assemble(acc);
    } else {
      run.state = state as RunState;
      run.lastSeq = Math.max(run.lastSeq, s);
      if (state === 'final' && ev.message !== undefined) {
        run.text = messageText(ev.message);
      } else {
        run.text = this.assemble(acc);
      }
      if (state === 'error') run.errorMessage = ev.errorMessage ?? 'the run failed';
      else if (ev.errorMessage) run.errorMessage = ev.errorMessage;
      run.stopReason = ev.stopReason ?? (state === 'final' ? undefined : state);
    }
    return { ...run };
  }

  private assemble(acc: RunAccumulator): string {
    const ordered = [...acc.chunks.entries()].sort((a, b) => a[0] - b[0]);
    const joined = ordered.map(([, t]) => t).join('');
    // The cumulative message is authoritative when it is at least as far along as the chunks.
    if (acc.cumulative && acc.cumulative.seq >= (ordered.at(-1)?.[0] ?? 0)) {
      return acc.cumulative.text.length >= joined.length ? acc.cumulative.text : joined;
    }
    return joined;
  }

  get(runId: string): LiveRun | undefined {
    const acc = this.runs.get(runId);
    return acc ? { ...acc.run } : undefined;
  }

  /** Runs of one session in the order they were first seen. */
  forSession(sessionKey: string): LiveRun[] {
    return [...this.runs.values()]
      .map((a) => a.run)
      .filter((r) => r.sessionKey === sessionKey)
      .sort((a, b) => a.order - b.order)
      .map((r) => ({ ...r }));
  }

  all(): LiveRun[] {
    return [...this.runs.values()].map((a) => ({ ...a.run })).sort((a, b) => a.order - b.order);
  }

  active(): LiveRun[] {
    return this.all().filter((r) => r.state === 'delta');
  }

  remove(runId: string): void {
    this.runs.delete(runId);
  }

  /** Forgets finished runs of a session (after its history was reloaded). */
  dropFinished(sessionKey: string): void {
    for (const [id, acc] of this.runs) {
      if (acc.run.sessionKey === sessionKey && TERMINAL.has(acc.run.state)) this.runs.delete(id);
    }
  }
}

/** A Svelte store wrapping a StreamAssembler; subscribers get every run, in first-seen order. */
export function createStreamStore(): Readable<LiveRun[]> & {
  apply(ev: ChatEventPayload): LiveRun | null;
  dropFinished(sessionKey: string): void;
  assembler: StreamAssembler;
} {
  const assembler = new StreamAssembler();
  const store = writable<LiveRun[]>([]);
  return {
    subscribe: store.subscribe,
    assembler,
    apply(ev) {
      const r = assembler.apply(ev);
      if (r) store.set(assembler.all());
      return r;
    },
    dropFinished(sessionKey) {
      assembler.dropFinished(sessionKey);
      store.set(assembler.all());
    },
  };
}
