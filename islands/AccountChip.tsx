import { useStore } from "../lib/client/store.ts";
import { pwa } from "../lib/client/pwa_state.ts";

/**
 * Who is signed in on a team server, and the way out (a plain form: it
 * works whatever state the page is in). Nothing on a single-user server.
 */
export function AccountChip() {
  const store = useStore();
  const me = store.me.value;
  if (!me?.team) return null;
  return (
    <form class="account-chip" method="post" action="/logout" id="account">
      <span title={`Signed in as ${me.name}, ${me.role}`}>
        {me.name} <span class="muted">· {me.role}</span>
      </span>
      <button type="submit" class="btn btn-small" id="sign-out">
        Sign out
      </button>
    </form>
  );
}

/**
 * The session ended while the page was open: say so above everything, and
 * that nothing made meanwhile is lost (it waits in this browser's queue and
 * is sent under the same name after the sign-in).
 */
export function SignedOutBanner() {
  const store = useStore();
  if (!store.signedOut.value) return null;
  const n = pwa.pending.value;
  return (
    <div class="signed-out" role="alert" id="signed-out">
      Your session has ended. <a href="/login">Sign in again</a>
      {n > 0
        ? ` — ${n} change${
          n === 1 ? " is" : "s are"
        } kept in this browser and will be sent under your name.`
        : "; labels you make meanwhile are kept in this browser."}
    </div>
  );
}
