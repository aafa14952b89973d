// Starts headless Chromium for the browser tests, through playwright-core and the system's
// Chromium (Debian's package `chromium`, which `npm test` installs when it is missing: see
// scripts/test.mjs). Playwright never downloads a browser here. Run alone, a missing binary fails
// with a message that says how to install it.
import fs from 'node:fs';

import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium package puts its launcher. */
export const chromiumPath = '/usr/bin/chromium';

/** Starting takes about a second; a minute means it is stuck. */
const launchTimeoutMs = 60_000;

/**
 * Flags for a quiet, offline browser: no sandbox (tests run as root, where Chromium's sandbox
 * refuses to start), no GPU, and no calls home (updates, field trials, first-run pages).
 */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** A headless Chromium; the caller closes it (`browser.close()` ends the process). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: install Debian's chromium package (apt-get install chromium), ` +
        'or run the tests with npm test, which installs it',
    );
  }
  // Playwright also closes the browser when this process exits or gets SIGINT, SIGTERM, SIGHUP.
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    timeout: launchTimeoutMs,
  });
}
