import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

// The web console (issue 16): Preact + TypeScript, built into dist/web, which the node serves at
// `/` (src/node/console.ts). Everything is bundled: no CDN, no external font or script.
const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, '../src');

export default defineConfig({
  root: here,
  base: '/',
  // The SDK and the modules' pages import from src/: the browser backends replace the Node ones,
  // as package.json's "browser" field says for other bundlers.
  resolve: {
    alias: [
      {
        find: /^(.*)\/crypto\/backend-node\.js$/,
        replacement: path.join(src, 'crypto/backend-portable.ts'),
      },
      { find: /^\.\/backend-node\.js$/, replacement: path.join(src, 'crypto/backend-portable.ts') },
      {
        find: /^\.\/event-socket-node\.js$/,
        replacement: path.join(src, 'sdk/event-socket-browser.ts'),
      },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.resolve(here, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:7420', ws: true } } },
});
