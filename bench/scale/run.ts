/**
 * The events read path at scale: the list a member runs (bench/events-read.ts: search_events with
 * participant counts, under RLS with the member's claims, as the authenticator) and the participant
 * count of the biggest event, on the small data set (the application database's `bench-events`
 * tenant: 40 events) and on the scale data set (bench/scale/generate.ts; its biggest and median
 * tenants). Prints EXPLAIN (ANALYZE, BUFFERS) of each and a short pgbench load of the list
 * (p50/p99 from pgbench's per-transaction log). Plans are also written to bench/results/scale-plans.txt.
 * Usage: node bench/scale/run.ts [seconds=5] [clients=8]   (needs pgbench)
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { randomToken, sha256 } from "../../src/platform/auth/secrets.ts";
import type { DatabaseUrls } from "../../src/platform/config.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import { benchEvents, benchTenant, benchUser } from "../harness.ts";
import { openScale } from "./database.ts";

const seconds = Number(process.argv[2] ?? 5);
const clients = Number(process.argv[3] ?? 8);
const run = promisify(execFile);

const LIST_SQL = `select e.id as "rowId", e.name,
    to_char(e.starts_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') as "startsAt",
    app_public.events_participants_count(e) as "participantsCount"
  from app_public.search_events(null, null, null, true) e order by e.starts_at limit 20`;
// The body of app_public.events_participants_count (security definer: it runs as the owner).
const COUNT_SQL = `select count(*)::integer from app_public.event_participants p
  where p.event_id = $1 and p.tenant_id = $2 and p.status = 'PARTICIPATING'`;
const CLAIMS_SQL = `select set_config('role', $1, true), set_config('jwt.claims.session_id', $2, true),
  set_config('jwt.claims.user_id', $3, true), set_config('jwt.claims.tenant_id', $4, true),
  set_config('jwt.claims.role', 'member', true)`;

interface Reader {
  label: string;
  urls: DatabaseUrls;
  tenantId: string;
  userId: string;
  sessionId: string;
}

const scale = await openScale();
const { bench } = scale;
const scaleOwner = new pg.Pool({ connectionString: scale.urls.ownerUrl, max: 2 });

/** The small data set, as bench/events-read.ts makes it. */
async function smallReader(): Promise<Reader> {
  const { owner } = bench;
  const tenantId = await benchTenant(bench, "bench-events");
  const userId = await benchUser(bench, tenantId, "reader", "member");
  await benchEvents(bench, tenantId);
  return reader("small: bench-events", bench.database.urls, owner, tenantId, userId);
}

/** User u0 (a member) of the scale tenant of rank `rank` (1 = the biggest). */
async function scaleReader(rank: number): Promise<Reader> {
  const slug = `scale-${String(rank).padStart(4, "0")}`;
  const { rows } = await scaleOwner.query<{ id: string; user_id: string }>(
    `select t.id, u.id as user_id from app_public.tenants t
     join app_public.users u on u.tenant_id = t.id and u.username = 'u0' where t.slug = $1`,
    [slug],
  );
  if (!rows[0]) throw new Error(`${scale.name} has no ${slug}: run npm run bench:scale:generate first`);
  return reader(`scale: ${slug}`, scale.urls, scaleOwner, rows[0].id, rows[0].user_id);
}

async function reader(
  label: string,
  urls: DatabaseUrls,
  owner: pg.Pool,
  tenantId: string,
  userId: string,
): Promise<Reader> {
  const { rows } = await owner.query<{ id: string; events: number }>(
    `select app_private.create_session($1, $2, interval '1 day', 'bench', null) as id,
       (select count(*)::int from app_public.events where tenant_id = $3) as events`,
    [userId, sha256(randomToken()), tenantId],
  );
  return { label: `${label}, ${rows[0]!.events} events`, urls, tenantId, userId, sessionId: rows[0]!.id };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the list as the member, and of the count of the tenant's biggest event. */
async function explain(r: Reader): Promise<string> {
  const client = new pg.Client({ connectionString: r.urls.authenticatorUrl });
  await client.connect();
  let text = `== ${r.label}\n-- list (as ${r.urls.visitorRole}, member claims)\n`;
  try {
    await client.query("select * from app_hidden.session_claims($1::uuid[])", [[r.sessionId]]);
    await client.query("begin");
    await client.query(CLAIMS_SQL, [r.urls.visitorRole, r.sessionId, r.userId, r.tenantId]);
    await client.query(LIST_SQL); // warm
    const list = await client.query(`explain (analyze, buffers) ${LIST_SQL}`);
    text += list.rows.map((row) => row["QUERY PLAN"]).join("\n");
    await client.query("rollback");
  } finally {
    await client.end();
  }
  const owner = new pg.Client({ connectionString: r.urls.ownerUrl });
  await owner.connect();
  try {
    const { rows } = await owner.query<{ event_id: string; n: number }>(
      `select event_id, count(*)::int as n from app_public.event_participants where tenant_id = $1
       group by event_id order by n desc limit 1`,
      [r.tenantId],
    );
    const plan = await owner.query(`explain (analyze, buffers) ${COUNT_SQL}`, [rows[0]!.event_id, r.tenantId]);
    text += `\n-- participant count of its biggest event (${rows[0]!.n} rows), as the owner\n`;
    text += plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
  } finally {
    await owner.end();
  }
  return `${text}\n`;
}

interface Load {
  tps: number;
  p50: number;
  p99: number;
}

/** pgbench replaying the list as the member (statements as in bench/events-read.ts). */
async function load(r: Reader): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-scale-"));
  try {
    const script = join(dir, "list.sql");
    writeFileSync(
      script,
      [
        `select * from app_hidden.session_claims(array['${r.sessionId}']::uuid[]);`,
        "begin;",
        `${CLAIMS_SQL.replace("$1", `'${r.urls.visitorRole}'`)
          .replace("$2", `'${r.sessionId}'`)
          .replace("$3", `'${r.userId}'`)
          .replace("$4", `'${r.tenantId}'`)
          .replace(/\s+/g, " ")};`,
        `${LIST_SQL.replace(/\s+/g, " ")};`,
        "commit;",
        "",
      ].join("\n"),
    );
    const { stdout } = await run(
      "pgbench",
      [
        "-n",
        "-f",
        script,
        `-c${clients}`,
        "-j2",
        `-T${seconds}`,
        "-l",
        "--log-prefix",
        join(dir, "log"),
        r.urls.authenticatorUrl,
      ],
      { cwd: dir },
    );
    const latencies = readdirSync(dir)
      .filter((name) => name.startsWith("log"))
      .flatMap((name) => readFileSync(join(dir, name), "utf8").trim().split("\n"))
      .map((line) => Number(line.split(" ")[2]) / 1000)
      .sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return { tps: Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0), p50: at(0.5), p99: at(0.99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  const readers = [await smallReader(), await scaleReader(1), await scaleReader(500)];
  let plans = `Scale plans, ${new Date().toISOString()}\n\n`;
  for (const r of readers) plans += `${await explain(r)}\n`;
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "scale-plans.txt"), plans);
  process.stdout.write(plans);
  const loads: Load[] = [];
  for (const r of readers) loads.push(await load(r));
  const base = loads[0]!;
  process.stdout.write(`\nList under pgbench, ${clients} clients, ${seconds} s each\n`);
  process.stdout.write(
    `${"".padEnd(48)}${"tps".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"p99 ÷ small".padStart(12)}\n`,
  );
  readers.forEach((r, i) => {
    const l = loads[i]!;
    process.stdout.write(
      `${r.label.padEnd(48)}${l.tps.toFixed(0).padStart(8)}${l.p50.toFixed(2).padStart(9)}` +
        `${l.p99.toFixed(2).padStart(9)}${(l.p99 / base.p99).toFixed(2).padStart(12)}\n`,
    );
  });
} finally {
  await scaleOwner.end();
  await scale.close();
}
