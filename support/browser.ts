/**
 * Debian's Chromium through playwright-core (Playwright cannot download a
 * browser here), headless, for the end-to-end tests, the browser benchmarks
 * and the screenshot scripts.
 */
import {
  type Browser,
  type BrowserContext,
  chromium,
  type LaunchOptions,
  type Page,
} from "playwright-core";

/** Where `apt-get install chromium` puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a quiet, offline-capable headless Chromium run as root. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

/** True when the system Chromium is installed (the browser tests skip without it). */
export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
};

/** A headless Chromium; every context it opens is incognito. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch(LAUNCH);
}

/**
 * A Chromium with a profile on disk at `profile`: what an installable app
 * needs (an incognito context reports "in-incognito"), a service worker and
 * caches that outlive a page.
 */
export function launchProfile(
  profile: string,
  opts: ProfileOptions = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    ...LAUNCH,
    viewport: { width: 1400, height: 900 },
    ...opts,
  });
}

/** Context options of {@linkcode launchProfile} (viewport 1400×900 unless given). */
export type ProfileOptions = NonNullable<
  Parameters<typeof chromium.launchPersistentContext>[1]
>;

/**
 * Collects what must never happen on a page: uncaught errors, and console
 * lines saying the Content-Security-Policy refused something (Plotly's strict
 * build and our bundle must run under the server's CSP). Returns the live list.
 */
export function collectPageErrors(page: Page, into: string[] = []): string[] {
  page.on("pageerror", (e) => into.push(e.message));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) {
      into.push(m.text());
    }
  });
  return into;
}
