// The browser entry of test/sdk-browser.test.ts: bundled with esbuild for `platform: 'browser'`
// (so package.json's "browser" field swaps in the portable crypto backend) and loaded by a page
// in headless Chromium, which then calls `cofferBrowserCheck(input)`.
import { runBrowserCheck, type BrowserCheckInput } from './sdk-browser-check.js';

declare global {
  var cofferBrowserCheck: ((input: BrowserCheckInput) => unknown) | undefined;
}

globalThis.cofferBrowserCheck = (input) => ({
  result: runBrowserCheck(input),
  // What makes this a browser and not Node in disguise: no Buffer, no process.
  globals: { Buffer: typeof globalThis.Buffer, process: typeof globalThis.process },
});
