import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { StreamAssembler, createStreamStore } from '../src/lib/streams';

const delta = (seq: number, chunk: string, cumulative: string, runId = 'r1') => ({
  runId, sessionKey: 'main', seq, state: 'delta', deltaText: chunk,
  message: { role: 'assistant', content: [{ type: 'text', text: cumulative }] },
});

describe('stream assembly (protocol 4)', () => {
  it('builds the reply from deltas in order and ends with the final text', () => {
    const a = new StreamAssembler();
    a.apply(delta(1, 'Hel', 'Hel'));
    a.apply(delta(2, 'lo ', 'Hello '));
    expect(a.get('r1')).toMatchObject({ state: 'delta', text: 'Hello ', lastSeq: 2 });
    a.apply({ runId: 'r1', sessionKey: 'main', seq: 3, state: 'final', message: { role: 'assistant', content: [{ type: 'text', text: 'Hello world' }] } });
    expect(a.get('r1')).toMatchObject({ state: 'final', text: 'Hello world' });
  });

  it('keeps stopReason and errorMessage of failed and killed runs (for the transcript markers)', () => {
    const a = new StreamAssembler();
    a.apply(delta(1, 'part', 'part', 'k'));
    a.apply({ runId: 'k', sessionKey: 'main', seq: 2, state: 'aborted', stopReason: 'aborted' });
    expect(a.get('k')).toMatchObject({ state: 'aborted', stopReason: 'aborted', text: 'part' });
    a.apply({ runId: 'f', sessionKey: 'main', seq: 1, state: 'error', stopReason: 'timeout', errorMessage: 'run exceeded 300 s' });
    expect(a.get('f')).toMatchObject({ state: 'error', stopReason: 'timeout', errorMessage: 'run exceeded 300 s' });
    a.apply({ runId: 'g', sessionKey: 'main', seq: 1, state: 'error' });
    expect(a.get('g')).toMatchObject({ stopReason: 'error', errorMessage: 'the run failed' });
  });

  it('ignores a duplicated frame instead of repeating its chunk', () => {
    const a = new StreamAssembler();
    a.apply(delta(1, 'ab', 'ab'));
    a.apply(delta(1, 'ab', 'ab'));
    a.apply(delta(2, 'cd', 'abcd'));
    a.apply(delta(2, 'cd', 'abcd'));
    const r = a.get('r1')!;
    expect(r.text).toBe('abcd');
    expect(r.duplicates).toBe(2);
  });

  it('orders chunks by seq when frames arrive out of order', () => {
    const a = new StreamAssembler();
    // Only chunks, no cumulative message: the order must come from seq alone.
    a.apply({ runId: 'r1', seq: 2, state: 'delta', deltaText: 'B' });
    a.apply({ runId: 'r1', seq: 1, state: 'delta', deltaText: 'A' });
    a.apply({ runId: 'r1', seq: 3, state: 'delta', deltaText: 'C' });
    expect(a.get('r1')!.text).toBe('ABC');
  });

  it('keeps the most advanced cumulative text when an older frame arrives late', () => {
    const a = new StreamAssembler();
    a.apply(delta(1, 'one ', 'one '));
    a.apply(delta(3, 'three', 'one two three'));
    a.apply(delta(2, 'two ', 'one two '));
    expect(a.get('r1')!.text).toBe('one two three');
  });

  it('treats the terminal state as sticky: a late delta after final changes nothing', () => {
    const a = new StreamAssembler();
    a.apply(delta(1, 'x', 'x'));
    a.apply({ runId: 'r1', seq: 3, state: 'final', message: 'xyz' });
    a.apply(delta(2, 'y', 'xy'));
    expect(a.get('r1')).toMatchObject({ state: 'final', text: 'xyz' });
  });

  it('keeps the partial text and the reason on error and aborted', () => {
    const a = new StreamAssembler();
    a.apply(delta(1, 'part', 'part', 'e1'));
    a.apply({ runId: 'e1', seq: 2, state: 'error', errorMessage: 'model down' });
    a.apply(delta(1, 'slow', 'slow', 'k1'));
    a.apply({ runId: 'k1', seq: 2, state: 'aborted' });
    expect(a.get('e1')).toMatchObject({ state: 'error', text: 'part', errorMessage: 'model down' });
    expect(a.get('k1')).toMatchObject({ state: 'aborted', text: 'slow' });
  });

  it('rejects frames without a runId or with an unknown state', () => {
    const a = new StreamAssembler();
    expect(a.apply({ seq: 1, state: 'delta', deltaText: 'x' })).toBeNull();
    expect(a.apply({ runId: 'r', seq: 1, state: 'weird' })).toBeNull();
    expect(a.all()).toEqual([]);
  });

  it('groups runs by session in first-seen order and forgets finished ones on request', () => {
    const s = createStreamStore();
    s.apply(delta(1, 'a', 'a', 'r1'));
    s.apply({ ...delta(1, 'b', 'b', 'r2'), sessionKey: 'ops' });
    s.apply(delta(1, 'c', 'c', 'r3'));
    s.apply({ runId: 'r1', seq: 2, state: 'final', message: 'a!' });
    expect(s.assembler.forSession('main').map((r) => r.runId)).toEqual(['r1', 'r3']);
    s.dropFinished('main');
    expect(get(s).map((r) => r.runId)).toEqual(['r2', 'r3']);
  });
});
