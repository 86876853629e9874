/**
 * A real PostgreSQL server for tests and benchmarks: Debian's `postgresql`
 * binaries (installed by .ci/run), a new cluster in a temporary folder on a
 * free port, trust authentication on 127.0.0.1 only, stopped and removed
 * afterwards. initdb refuses to run as root, so under root the cluster
 * belongs to (and runs as) the `postgres` user the package makes.
 */

/** The newest installed PostgreSQL's bin folder, or null when none is. */
export function postgresBin(): string | null {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name).filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = `/usr/lib/postgresql/${v}/bin`;
      try {
        Deno.statSync(`${bin}/initdb`);
        return bin;
      } catch { /* not this one */ }
    }
  } catch { /* no PostgreSQL */ }
  return null;
}

/** A running test cluster. */
export interface PostgresServer {
  /** `postgres://ssvae@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function freePort(): Promise<number> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return await Promise.resolve(port);
}

async function run(cmd: string, args: string[], asPostgres: boolean) {
  const [exe, argv] = asPostgres
    ? ["/usr/sbin/runuser", ["-u", "postgres", "--", cmd, ...args]]
    : [cmd, args];
  const out = await new Deno.Command(exe, {
    args: argv,
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).output();
  if (!out.success) {
    const dec = new TextDecoder();
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${dec.decode(out.stderr)}${
        dec.decode(out.stdout)
      }`,
    );
  }
}

/** Starts a new cluster; throws when PostgreSQL is not installed. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) {
    throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  }
  const root = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "ssvae_pg_" });
  if (root) {
    const id = new TextDecoder().decode(
      (await new Deno.Command("id", {
        args: ["-u", "postgres"],
        stdout: "piped",
      }).output()).stdout,
    ).trim();
    const gid = new TextDecoder().decode(
      (await new Deno.Command("id", {
        args: ["-g", "postgres"],
        stdout: "piped",
      }).output()).stdout,
    ).trim();
    await Deno.chown(dir, Number(id), Number(gid));
  }
  const data = `${dir}/data`;
  await run(`${bin}/initdb`, [
    "-D",
    data,
    "-U",
    "ssvae",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
  ], root);
  const port = await freePort();
  await run(`${bin}/pg_ctl`, [
    "-D",
    data,
    "-l",
    `${dir}/log`,
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "start",
  ], root);
  const stop = async () => {
    await run(`${bin}/pg_ctl`, ["-D", data, "-m", "fast", "-w", "stop"], root)
      .catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    url: `postgres://ssvae@127.0.0.1:${port}/postgres`,
    port,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
