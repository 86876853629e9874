import { renderPage, scriptSafeJson } from "../routes/page.tsx";
import type { ApiState } from "../lib/protocol/api.ts";
import { assert, assertEquals } from "./assert.ts";

const state: ApiState = {
  count: 2000,
  labelled: 3,
  countsPerClass: [1, 0, 2, 0, 0, 0, 0, 0, 0, 0],
  training: { status: "idle", epoch: 0, targetEpochs: 0 },
  config: { recon_weight: 1000, kl_weight: 0.1, learning_rate: 0.001 },
  history: [],
  latentVersion: 1,
};

function scripts(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>/g)].map((m) =>
    m[0]
  );
}

Deno.test("renderPage returns a full document with the dashboard rendered", () => {
  const html = renderPage({ state });
  assert(html.startsWith("<!DOCTYPE html>"));
  assert(html.includes("SSVAE Active Learning Dashboard"));
  for (
    const id of [
      "latent-plot",
      "loss-plot",
      "start-training",
      "recon-weight",
      "kl-weight",
      "learning-rate",
      "epochs",
      "prediction-text",
      "delete-label",
    ]
  ) {
    assert(html.includes(`id="${id}"`), `has #${id}`);
  }
  // Real numbers on first paint.
  assert(html.includes(">2,000<"), "total count");
  assert(/data-stat="labelled"[^>]*>3</.test(html), "labelled count");
  assert(/data-mode="labels"/.test(html));
});

Deno.test("renderPage has no inline executable script (CSP script-src 'self')", () => {
  const html = renderPage({ state });
  const all = scripts(html);
  assert(all.length >= 2);
  for (const s of all) {
    const open = s.slice(0, s.indexOf(">") + 1);
    const body = s.slice(open.length, -"</script>".length);
    if (/type="application\/json"/.test(open)) continue;
    assert(/\ssrc="\/static\//.test(open), `external script only: ${open}`);
    assertEquals(body.trim(), "", "no inline code");
  }
  assert(!/\son[a-z]+="/i.test(html), "no inline event handler attributes");
});

Deno.test("page props round-trip through the JSON script element, safely", () => {
  const evil = "</script><script>alert(1)</script><!--";
  const props = { state, title: evil };
  const html = renderPage(props);
  const m = html.match(
    /<script type="application\/json" id="page-props">([\s\S]*?)<\/script>/,
  );
  assert(m, "props element present");
  assertEquals(JSON.parse(m[1]), props);
  assert(!m[1].includes("<"), "no raw < inside the JSON");
  assertEquals(scripts(html).length, 2, "the title did not open a script");
  assert(html.includes("<title>&lt;/script&gt;"), "title escaped");
  assertEquals(JSON.parse(scriptSafeJson("\u2028&<>")), "\u2028&<>");
});

Deno.test("renderPage works without props (server passed nothing)", () => {
  const html = renderPage();
  assert(html.includes("SSVAE Active Learning Dashboard"));
  assert(html.includes('id="page-props">{}</script>'));
});
