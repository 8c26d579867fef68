/** In-page toasts (failures, confirmations). Each disappears on its own after `ttlMs`. */
import { writable } from 'svelte/store';

export type ToastKind = 'error' | 'info' | 'success';
export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

const store = writable<Toast[]>([]);
let nextId = 1;
const MAX = 5;

export const toasts = { subscribe: store.subscribe };

export function toast(text: string, kind: ToastKind = 'info', ttlMs = kind === 'error' ? 8000 : 4000): number {
  const id = nextId++;
  store.update((list) => [...list.slice(-(MAX - 1)), { id, kind, text }]);
  if (ttlMs > 0) setTimeout(() => dismiss(id), ttlMs);
  return id;
}

export function dismiss(id: number): void {
  store.update((list) => list.filter((t) => t.id !== id));
}

/** Toast for a failed action: "Could not <what>: <server message>". */
export function toastError(what: string, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  toast(`Could not ${what}: ${msg}`, 'error');
}
