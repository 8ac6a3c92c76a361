import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/**
 * The system Chromium the browser tests drive (Debian's `chromium` package). No browser download:
 * `playwright-core` only speaks the DevTools protocol to whatever binary it is given.
 */
export const CHROMIUM_PATH = process.env.KASSA_CHROMIUM_PATH || '/usr/bin/chromium'

/** CI sets KASSA_REQUIRE_BROWSER=1: a missing browser then fails the suite instead of skipping it. */
export const BROWSER_REQUIRED = process.env.KASSA_REQUIRE_BROWSER === '1'

export const hasBrowser = existsSync(CHROMIUM_PATH)

/** `describe.skipIf(skipBrowserTests)`: skipped without a browser, unless one is required. */
export const skipBrowserTests = !hasBrowser && !BROWSER_REQUIRED

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

export async function launchBrowser(): Promise<Browser> {
  if (!hasBrowser) {
    throw new Error(`KASSA_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM_PATH} (install Debian's "chromium" package or set KASSA_CHROMIUM_PATH)`)
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 })
}
