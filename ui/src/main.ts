// First: later imports (the chart library) read the locale while they load.
import './lib/locale-guard';
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';

// Errors that escape the app are kept (newest last) so a shell test can read why a window
// stayed blank; they are also logged to the console as usual.
const errors: string[] = [];
(window as unknown as { __MICROCLAW_ERRORS__: string[] }).__MICROCLAW_ERRORS__ = errors;
const keep = (what: unknown) => {
  if (errors.length < 20) errors.push(what instanceof Error ? `${what.message}\n${what.stack ?? ''}` : String(what));
};
window.addEventListener('error', (e) => keep(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => keep(e.reason));

const target = document.getElementById('app');
if (target) {
  try {
    mount(App, { target });
  } catch (e) {
    keep(e);
    throw e;
  }
}
