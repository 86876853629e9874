/**
 * A team annotator's day, in Chromium against a real team server: the
 * invite link, a password, the page with their name and no Train button of
 * their own, a label under their name; then the session ends while they
 * work (it expired): the next labels are kept in the browser, the page asks
 * them to sign in, and after the sign-in the labels reach labels.csv under
 * their name, nothing lost. Another annotator signing in on the same
 * browser does not send them under theirs.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { chromiumAvailable, openDashboard } from "../support/browser.ts";
import { runDeno } from "../support/server_process.ts";
import { waitUntil } from "../support/wait.ts";
import { seriousViolations } from "../support/axe.ts";
import { DatabaseSync } from "node:sqlite";
import type { Page } from "playwright-core";

const PASSWORD = "correct horse battery";

async function invite(labelsPath: string, name: string): Promise<string> {
  const r = await runDeno([
    "cli/users.ts",
    "add",
    name,
    "--role",
    "annotator",
    "--labels",
    labelsPath,
  ]);
  assertEquals(r.code, 0, r.output);
  return r.stdout.match(/(\/join\?invite=[\w-]{43})/)![1];
}

/** The events of the label log: serial, new label, annotator. */
function logged(
  labelsPath: string,
): Array<[number, number | null, string | null]> {
  const db = new DatabaseSync(labelsPath.replace(/\.csv$/, ".history.sqlite"));
  const rows = db.prepare(
    "SELECT serial, new, annotator FROM events WHERE source != 'seed' ORDER BY id",
  ).all() as Array<
    { serial: number; new: number | null; annotator: string | null }
  >;
  db.close();
  return rows.map((r) => [r.serial, r.new, r.annotator]);
}

/** Presses N and then `digit`; returns the image labelled. */
async function labelNext(page: Page, digit: number): Promise<number> {
  const before = await page.getAttribute("section.sample", "data-index");
  await page.keyboard.press("n");
  await page.waitForFunction((b) => {
    const el = document.querySelector("section.sample") as HTMLElement | null;
    return !!el && el.dataset.index !== "" && el.dataset.index !== b &&
      /confidence/.test(
        document.querySelector("#prediction-text")?.textContent ?? "",
      );
  }, before);
  const i = Number(await page.getAttribute("section.sample", "data-index"));
  await page.keyboard.press(String(digit));
  await page.waitForFunction(
    (want) =>
      (document.querySelector("#prediction-text")?.textContent ?? "")
        .includes(`User label: ${want}`),
    String(digit),
  );
  return i;
}

Deno.test({
  name:
    "a team annotator: invite, labels under their name, an expired session loses nothing (Chromium)",
  ignore: !chromiumAvailable(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ssvae_e2e_team_" });
    const labelsPath = `${dir}/labels.csv`;
    const dbPath = `${dir}/labels.team.sqlite`;
    try {
      const bobLink = await invite(labelsPath, "bob");
      const carolLink = await invite(labelsPath, "carol");
      await using dash = await openDashboard({ dir, limit: 300 }, {
        width: 1440,
        height: 900,
      });
      const { server: srv, page, pageErrors } = dash;

      // Not signed in: the page is the sign-in page.
      await page.goto(`${srv.url}/`);
      assertEquals(new URL(page.url()).pathname, "/login");
      assertEquals(await seriousViolations(page), [], "the sign-in page");

      // The invite link: a password, and the dashboard under bob's name.
      await page.goto(srv.url + bobLink);
      assertEquals(await seriousViolations(page), [], "the invite page");
      await page.fill('input[name="password"]', PASSWORD);
      await page.fill('input[name="confirm"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForSelector("#account");
      assertMatch((await page.textContent("#account"))!, /bob · annotator/);
      assert(
        await page.isDisabled("#start-training"),
        "an annotator may train",
      );
      // The token is spent: the address bar no longer holds it.
      assert(!page.url().includes("invite="), page.url());

      const first = await labelNext(page, 3);
      await waitUntil(
        "bob's first label in labels.csv",
        async () =>
          (await Deno.readTextFile(labelsPath)).includes(`\n${first},3\n`),
      );
      // The log follows the CSV's rename in the same write.
      await waitUntil(
        "bob's first label in the log",
        () => logged(labelsPath).length === 1,
      );
      assertEquals(logged(labelsPath), [[first, 3, "bob"]]);

      // The session expires while bob works (once the page can work
      // offline, as it says in its badge: the images are on this device).
      await page.waitForSelector('[data-offline-ready="true"]', {
        state: "attached",
      });
      const db = new DatabaseSync(dbPath);
      db.exec("UPDATE sessions SET expires = 0");
      db.close();
      const second = await labelNext(page, 5);
      await page.waitForSelector("#signed-out");
      await waitUntil(
        "the banner counts the kept change",
        async () =>
          /1 change is kept/.test(
            (await page.textContent("#signed-out")) ?? "",
          ),
      );
      assert(
        !(await Deno.readTextFile(labelsPath)).includes(`\n${second},`),
        "a label went in without a session",
      );

      // Carol signs in on the same browser: bob's change stays queued.
      await page.goto(srv.url + carolLink);
      await page.fill('input[name="password"]', PASSWORD);
      await page.fill('input[name="confirm"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForSelector("#account");
      assertMatch((await page.textContent("#account"))!, /carol/);
      await page.waitForFunction(() =>
        /1 change/.test(
          document.querySelector(".sync-badge, #sync-badge")?.textContent ?? "",
        )
      );
      assert(!(await Deno.readTextFile(labelsPath)).includes(`\n${second},`));

      // Carol signs out; bob signs in again: his change goes in, as his.
      await page.click("#sign-out");
      await page.waitForURL(/\/login$/);
      await page.fill('input[name="name"]', "bob");
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForSelector("#account");
      await waitUntil(
        "bob's kept label in labels.csv after his sign-in",
        async () =>
          (await Deno.readTextFile(labelsPath)).includes(`\n${second},5\n`),
      );
      await waitUntil(
        "bob's kept label in the log",
        () => logged(labelsPath).length === 2,
      );
      assertEquals(logged(labelsPath), [[first, 3, "bob"], [
        second,
        5,
        "bob",
      ]]);
      assertEquals(pageErrors, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
