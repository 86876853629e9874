import { classColor } from "../lib/client/figures.ts";
import { inkOn } from "../lib/client/palette.ts";
import { dataset, digitClasses, keyForClass } from "../lib/client/dataset.ts";

/**
 * After a mouse click, the button lets the focus go, so the next keys are the
 * page's: Space then means "next suggestion", as everywhere, instead of
 * pressing the label button again (it seemed to do nothing). A keyboard
 * activation (detail 0) keeps the focus where the user put it.
 */
export function releaseFocus(e: MouseEvent): void {
  if (e.detail > 0) (e.currentTarget as HTMLElement | null)?.blur();
}

/**
 * One class's label button, in the class's colour with its key in the
 * title: the sample panel labels the shown image with it, the selection
 * panel the whole selection. `attr` names the button for tests and styles.
 */
export function LabelButton(props: {
  cls: number;
  name: string;
  /** "Label" or "Label all": the title's verb. */
  verb: string;
  attr: "data-label" | "data-batch-label";
  disabled: boolean;
  active?: boolean;
  /** Named classes: show the key before the name. */
  showKey?: boolean;
  onClick(): void;
}) {
  const ds = dataset.value;
  const digits = digitClasses(ds);
  const key = keyForClass(props.cls, ds);
  return (
    <button
      type="button"
      class={`btn label-btn ${props.active ? "active" : ""} ${
        digits ? "" : "label-named"
      }`}
      {...{ [props.attr]: props.cls }}
      title={`${props.verb} as ${props.name} (key ${key})`}
      style={{
        "--class-color": classColor(props.cls),
        "--class-ink": inkOn(classColor(props.cls)),
      }}
      disabled={props.disabled}
      aria-pressed={props.active === undefined ? undefined : props.active}
      onClick={(e) => {
        props.onClick();
        releaseFocus(e);
      }}
    >
      {digits ? props.cls : props.showKey
        ? (
          <>
            <kbd>{key}</kbd> {props.name}
          </>
        )
        : props.name}
    </button>
  );
}

/**
 * The grid of named label buttons: columns as wide as the longest name needs
 * (about 7 px a character at the buttons' 12.5 px, plus the key), up to
 * 150 px, so the side panel keeps two columns; a longer name wraps onto a
 * second line in its button (static/app.css) instead of being cut short.
 */
export function namedGridStyle(names: string[]): Record<string, string> {
  const longest = names.reduce((m, n) => Math.max(m, n.length), 0);
  const px = Math.min(150, Math.max(104, Math.round(36 + 7 * longest)));
  return { "--label-min": `${px}px` };
}
