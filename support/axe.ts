/**
 * axe-core (npm) run in a Playwright page: the WCAG rules a page breaks.
 * The engine's source is evaluated over CDP, which the page's CSP (no
 * inline scripts) does not govern.
 */
import axe from "axe-core";
import type { Page } from "playwright-core";

/** WCAG 2.0–2.2, levels A and AA. */
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** One rule broken: where, and how badly. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** The violations of WCAG A/AA on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) {
    await page.evaluate(axe.source);
  }
  return await page.evaluate(async (tags) => {
    // deno-lint-ignore no-explicit-any
    const engine = (globalThis as any).axe;
    const result = await engine.run(document, {
      runOnly: { type: "tag", values: tags },
    });
    // deno-lint-ignore no-explicit-any
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      // deno-lint-ignore no-explicit-any
      targets: v.nodes.slice(0, 5).map((n: any) => String(n.target)),
    }));
  }, TAGS);
}

/** Serious and critical violations only (axe's two upper impacts). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  return (await axeViolations(page)).filter((v) =>
    v.impact === "serious" || v.impact === "critical"
  );
}
