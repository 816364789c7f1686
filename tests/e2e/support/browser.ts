import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (scripts/bootstrap.sh installs it); TESSERA_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env['TESSERA_CHROMIUM'] ?? '/usr/bin/chromium';

/** Headless Chromium as the console e2e specs drive it: no sandbox (root in CI), no background network. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/bootstrap.sh (installs Debian's chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
