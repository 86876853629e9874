/**
 * `deno task users`: the team's accounts of one data set, from the command
 * line (the owner's `GET/POST/DELETE /api/users` without a browser).
 *
 * - `add NAME --role owner|annotator|reviewer`: a new account and its
 *   one-time invite link (valid 7 days);
 * - `reset NAME [--role R]`: a new invite link (a forgotten password); the
 *   account's sessions end;
 * - `revoke NAME`: no more sign-ins; its sessions end at once;
 * - `list`: every account.
 *
 * The data set's database is found as `start` finds it: `--db FILE`, else
 * `<labels>.team.sqlite` beside `--labels` (or the `--images` folder's
 * default labels file). Safe while the dashboard runs: SQLite takes turns,
 * and the server reads sessions from the file at every request.
 */

import { parseArgs } from "node:util";
import { defaultPaths } from "../lib/protocol/paths.ts";
import { isRole, type Role, ROLES } from "../lib/protocol/team.ts";
import { teamDbPath } from "../lib/team/account_store.ts";
import { AccountError } from "../lib/team/accounts.ts";
import { dbName, openAccounts } from "../lib/team/open_team.ts";
import { invitePath } from "../routes/api/users.ts";

const USAGE = `Usage: deno task users <command> [flags]
  add NAME --role ROLE   a new account (${
  ROLES.join(" | ")
}) and its invite link
  reset NAME [--role R]  a new invite link for NAME (its sessions end)
  revoke NAME            NAME can no longer sign in; its sessions end at once
  list                   every account
  --url URL        the server's address, for the link (default http://127.0.0.1:8000)
  --labels PATH    the data set's labels CSV (its accounts sit beside it)
  --images DIR     a folder data set (its default labels file)
  --db FILE        the accounts database itself (as start --db)`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      role: { type: "string" },
      url: { type: "string", default: "http://127.0.0.1:8000" },
      labels: { type: "string" },
      images: { type: "string" },
      db: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const [command, name, ...rest] = positionals;
  if (rest.length > 0) throw new AccountError(`unexpected ${rest.join(" ")}`);
  const labelsPath = values.labels ?? defaultPaths(values.images).labelsPath;
  const dbPath = values.db ?? teamDbPath(labelsPath);
  const role = values.role;
  if (role !== undefined && !isRole(role)) {
    throw new AccountError(
      `--role ${role}: expected one of ${ROLES.join(", ")}`,
    );
  }
  const needName = () => {
    if (!name) throw new AccountError(`${command} needs an account name`);
    return name;
  };
  const store = await openAccounts(dbPath);
  try {
    switch (command) {
      case "add":
      case "reset": {
        const who = needName();
        const had = (await store.list()).find((a) => a.name === who);
        const r: Role | undefined = (role as Role | undefined) ?? had?.role;
        if (!r) throw new AccountError("add needs --role");
        const { token, expires } = await store.invite(who, r, {
          reissue: command === "reset",
        });
        const base = values.url.replace(/\/+$/, "");
        console.log(
          `${command === "add" ? "added" : "new link for"} ${who} (${r}) in ${
            dbName(dbPath)
          }`,
        );
        console.log(
          `invite link, works once until ${
            new Date(expires).toISOString()
          }; send it to ${who} only:`,
        );
        console.log(`  ${base}${invitePath(token)}`);
        return 0;
      }
      case "revoke":
        await store.revoke(needName());
        console.log(`revoked ${name}: signed out everywhere`);
        return 0;
      case "list": {
        for (const a of await store.list()) {
          const state = a.revoked ? "revoked" : a.active ? "active" : "invited";
          console.log(`${a.name}\t${a.role}\t${state}`);
        }
        return 0;
      }
      default:
        throw new AccountError(`unknown command ${command}\n\n${USAGE}`);
    }
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(e instanceof AccountError || e instanceof TypeError ? 2 : 1);
  }
}
