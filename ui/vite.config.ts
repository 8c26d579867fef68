/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The built UI is served by the Rust gateway at `/` (same origin as the API and the bridge),
// so asset paths are relative and nothing depends on a dev proxy the binary would lack.
export default defineConfig({
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:10961',
      '/health': 'http://127.0.0.1:10961',
    },
  },
  test: {
    testTimeout: 15000,
    projects: [
      // Logic and the bridge client over real sockets: plain Node (the `ws` package must get its Node build).
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: ['tests/**/*.dom.test.ts'], environment: 'node' } },
      // Components: Svelte's browser build in happy-dom.
      { extends: true, plugins: [svelteTesting()], test: { name: 'dom', include: ['tests/**/*.dom.test.ts'], environment: 'happy-dom' } },
    ],
  },
});
