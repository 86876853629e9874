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
import {
  type ServerOptions,
  type ServerProcess,
  startServer,
} from "./server_process.ts";

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

/** A dashboard server and a Chromium page on it, for an end-to-end test. */
export interface DashboardSession {
  server: ServerProcess;
  browser: Browser;
  context: BrowserContext;
  /** A fresh page, not yet navigated. */
  page: Page;
  /** Uncaught errors and CSP refusals on `page` so far (collectPageErrors). */
  pageErrors: string[];
  /** Closes the browser, then stops the server. */
  close(): Promise<void>;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the server (`server` options, see startServer) and Chromium side by
 * side and opens a page of `viewport` size; if either fails, the other is
 * closed before the error is thrown.
 */
export async function openDashboard(
  server: ServerOptions,
  viewport = { width: 1400, height: 900 },
): Promise<DashboardSession> {
  const [srv, browser] = await Promise.allSettled([
    startServer(server),
    launchBrowser(),
  ]);
  if (srv.status === "rejected" || browser.status === "rejected") {
    if (browser.status === "fulfilled") await browser.value.close();
    if (srv.status === "fulfilled") await srv.value.stop();
    throw srv.status === "rejected"
      ? srv.reason
      : (browser as PromiseRejectedResult).reason;
  }
  const close = async () => {
    await browser.value.close().catch(() => {});
    await srv.value.stop();
  };
  try {
    const context = await browser.value.newContext({ viewport });
    const page = await context.newPage();
    return {
      server: srv.value,
      browser: browser.value,
      context,
      page,
      pageErrors: collectPageErrors(page),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits until the element at `selector` says exactly `text`. */
export async function waitForText(
  page: Page,
  selector: string,
  text: string,
  timeout = 30_000,
): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => document.querySelector(sel)?.textContent === want,
    [selector, text] as const,
    { timeout },
  );
}

/**
 * Waits until the page's toast of `kind` contains `text`, and returns the
 * whole toast. Waiting for the toast element alone is not enough: an earlier
 * toast of the same kind may still show, and a label's file is written before
 * its response (and so its toast) reaches the page.
 */
export async function waitForToast(
  page: Page,
  text: string,
  kind: "success" | "info" | "error" = "success",
): Promise<string> {
  const h = await page.waitForFunction(
    ([want, cls]) => {
      const t = document.querySelector(`#label-toast.toast-${cls}`);
      const got = t?.textContent ?? "";
      return got.includes(want) ? got : false;
    },
    [text, kind] as const,
  );
  return await h.jsonValue() as string;
}

/** The 784 grey values drawn on the first 28×28 canvas matching `selector`. */
export function canvasGrey(page: Page, selector: string): Promise<number[]> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const d = c.getContext("2d")!.getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 784 }, (_, i) => d[4 * i]);
  }, selector);
}
