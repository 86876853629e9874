/**
 * Overlap (`--overlap K`): an image an annotator labels is not labelled
 * until K annotators have labelled it. Until then each one's label is an
 * annotation (lib/team/annotation_store.ts), seen only by its author
 * (blind: the map, the samples and the label routes show an annotator their
 * own annotations and nobody else's). K that agree write the label to
 * labels.csv (source "consensus"); K that disagree enter the disagreement
 * queue, and a reviewer's or owner's label of the image is the resolution.
 * Agreement (Cohen's κ per pair and class, Krippendorff's α overall) is
 * computed over every image with two annotations or more.
 */

import type { LabelService } from "./label_service.ts";
import type { Annotations } from "../team/annotation_store.ts";
import { agreementReport } from "../team/agreement.ts";
import type { AgreementResponse, Disagreement, Me } from "../protocol/team.ts";
import { isAnnotator } from "./auth.ts";
import type { WriteMeta } from "../protocol/label_events.ts";
import type { LabelResult } from "../protocol/api.ts";
import { stringify } from "csv-stringify/sync";

/** A label write's answer under overlap (`pending` absent: the write made the label). */
export type OverlapResult = LabelResult;

/**
 * The overlap that applies to `me`'s labels: the server's, for a team
 * server's annotator; null for everyone else (their labels are labels).
 */
export function overlapFor(
  overlap: OverlapService | null,
  me: Me | undefined,
): OverlapService | null {
  return overlap && isAnnotator(me) ? overlap : null;
}

export class OverlapService {
  readonly k: number;
  readonly #store: Annotations;
  readonly #labels: LabelService;
  readonly #indexOf: Map<number, number> | null;

  constructor(
    k: number,
    store: Annotations,
    labels: LabelService,
    serials?: Uint32Array,
  ) {
    this.k = k;
    this.#store = store;
    this.#labels = labels;
    this.#indexOf = serials
      ? new Map(Array.from(serials, (s, i) => [s, i]))
      : null;
  }

  #serial(index: number): number {
    return this.#labels.serialOf(index);
  }

  #index(serial: number): number {
    return this.#indexOf ? this.#indexOf.get(serial) ?? -1 : serial;
  }

  /** Whether an annotator's write of `index` is an annotation (no label yet). */
  applies(index: number): boolean {
    return this.#labels.get(index) === null;
  }

  /**
   * `annotator`'s label (or its removal: null) of unlabelled image `index`.
   * The K-th agreeing annotation writes the label.
   */
  async annotate(
    annotator: string,
    index: number,
    label: number | null,
    meta: WriteMeta,
  ): Promise<OverlapResult> {
    const serial = this.#serial(index);
    if (label === null) {
      await this.#store.remove(serial, annotator);
      return { index, label: null, applied: true };
    }
    await this.#store.put(serial, annotator, label);
    const all = [...(await this.#store.forSerial(serial)).values()];
    const agreed = all.every((l) => l === label);
    if (all.length >= this.k && agreed) {
      const r = await this.#labels.write(index, label, undefined, {
        ...meta,
        source: "consensus",
        annotator: null,
      });
      return { ...r, label };
    }
    return {
      index,
      label,
      applied: true,
      pending: {
        have: all.length,
        need: this.k,
        disagreement: all.length >= this.k && !agreed,
      },
    };
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  /** Image `index`'s label as `annotator` sees it: the label, else their own annotation. */
  async labelFor(annotator: string, index: number): Promise<number | null> {
    const label = this.#labels.get(index);
    if (label !== null) return label;
    return (await this.#store.forSerial(this.#serial(index))).get(annotator) ??
      null;
  }

  /** `annotator`'s own labels of images not labelled yet: index → label. */
  async ownView(annotator: string): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const [serial, label] of await this.#store.mine(annotator)) {
      const i = this.#index(serial);
      if (i >= 0 && this.#labels.get(i) === null) out.set(i, label);
    }
    return out;
  }

  /** Images with K annotations that differ and no label yet. */
  async disagreements(): Promise<Disagreement[]> {
    const out: Disagreement[] = [];
    for (const [serial, labels] of await this.#bySerial()) {
      const i = this.#index(serial);
      if (i < 0 || labels.size < this.k || this.#labels.get(i) !== null) {
        continue;
      }
      const values = new Set(labels.values());
      if (values.size > 1) {
        out.push({ index: i, labels: Object.fromEntries(labels) });
      }
    }
    return out;
  }

  /** The agreement report and the disagreement queue. */
  async report(classes: number): Promise<AgreementResponse> {
    const items = [...(await this.#bySerial()).values()];
    return {
      overlap: this.k,
      ...agreementReport(items, classes),
      disagreements: await this.disagreements(),
    };
  }

  /** Every annotation as CSV: `Serial,annotator,label,time` (ISO 8601). */
  async exportCsv(): Promise<string> {
    return stringify(
      (await this.#store.all()).map((a) => [
        a.serial,
        a.annotator,
        a.label,
        new Date(a.time).toISOString(),
      ]),
      { header: true, columns: ["Serial", "annotator", "label", "time"] },
    );
  }

  async #bySerial(): Promise<Map<number, Map<string, number>>> {
    const by = new Map<number, Map<string, number>>();
    for (const a of await this.#store.all()) {
      let m = by.get(a.serial);
      if (!m) by.set(a.serial, m = new Map());
      m.set(a.annotator, a.label);
    }
    return by;
  }
}
