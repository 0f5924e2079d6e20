/**
 * The operations module's SQL, called as each role in a rolled-back transaction: who lists, retries
 * and discards background jobs, that a tenant's people only ever see their own tenant's jobs, and
 * that releasing workers' locks is for platform operators. The CLI commands and a real worker's jobs
 * are in the other files of this folder.
 */
import {
  a,
  asRoot,
  asUser,
  b,
  become,
  type Client,
  column,
  createSqlUser,
  db,
  errorCode,
  rows,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

/** A job of the tenant (null: a platform job) that has failed once, made inside the open transaction. */
async function failedJob(client: Client, tenantId: string | null, locked = false): Promise<string> {
  const payload = tenantId ? { tenantId } : {};
  const [job] = await asRoot<{ id: string }>(
    db,
    client,
    "select id::text from graphile_worker.add_job('test_task', $1)",
    [payload],
  );
  const fail = `update graphile_worker._private_jobs set attempts = 1, last_error = 'boom',
    locked_at = case when $2 then now() end, locked_by = case when $2 then 'pool-test' end where id = $1`;
  await asRoot(db, client, fail, [job!.id, locked]);
  return job!.id;
}

const failed = (client: Client) =>
  column<string>(client, "select j.id::text from app_public.failed_jobs() j order by j.id");
const locked = (client: Client) =>
  column<string>(client, "select j.id::text from app_public.locked_jobs() j order by j.id");
const retry = (client: Client, id: string) => errorCode(client, "select app_public.retry_job($1)", [id]);
const discard = (client: Client, id: string) => errorCode(client, "select app_public.discard_job($1)", [id]);
const attempts = (client: Client, id: string) =>
  asRoot<{ attempts: number }>(db, client, "select attempts from graphile_worker.jobs where id = $1", [id]);

test("jobs need jobs.manage: owner and admin list them; manager, member FORBIDDEN; anonymous TAUTH", async () => {
  await asUser(db, a.owner, async (client) => {
    const job = await failedJob(client, a.id);
    for (const user of [a.owner, a.admin]) {
      await become(client, user);
      expect(await failed(client)).toEqual([job]);
    }
    for (const user of [a.manager, a.member]) {
      await become(client, user);
      for (const call of ["select * from app_public.failed_jobs()", "select * from app_public.locked_jobs()"]) {
        expect(await errorCode(client, call)).toBe("TFORB");
      }
      expect(await retry(client, job)).toBe("TFORB");
      expect(await discard(client, job)).toBe("TFORB");
    }
    await become(client, null);
    expect(await errorCode(client, "select * from app_public.failed_jobs()")).toBe("TAUTH");
    expect(await retry(client, job)).toBe("TAUTH");
    expect(await attempts(client, job)).toEqual([{ attempts: 1 }]);
  });
});

test("an owner lists their own tenant's failed and locked jobs only, never another's or the platform's", async () => {
  await asUser(db, a.owner, async (client) => {
    const mine = await failedJob(client, a.id);
    const theirs = await failedJob(client, b.id);
    await failedJob(client, null);
    const mineLocked = await failedJob(client, a.id, true);
    const theirsLocked = await failedJob(client, b.id, true);
    expect(await failed(client)).toEqual([mine, mineLocked]);
    expect(await locked(client)).toEqual([mineLocked]);
    const tenants =
      "select distinct tenant_id from app_public.failed_jobs() union select tenant_id from app_public.locked_jobs()";
    expect(await column(client, tenants)).toEqual([a.id]);
    await become(client, b.admin);
    expect(await failed(client)).toEqual([theirs, theirsLocked]);
    expect(await locked(client)).toEqual([theirsLocked]);
  });
});

test("retry and discard: own tenant's jobs; another's, a platform job or a running one is NOT_FOUND", async () => {
  await asUser(db, a.admin, async (client) => {
    const mine = await failedJob(client, a.id);
    const other = await failedJob(client, a.id);
    const theirs = await failedJob(client, b.id);
    const platform = await failedJob(client, null);
    const running = await failedJob(client, a.id, true);
    for (const id of [theirs, platform, running]) {
      expect(await retry(client, id)).toBe("TNFND");
      expect(await discard(client, id)).toBe("TNFND");
      expect(await attempts(client, id)).toEqual([{ attempts: 1 }]);
    }
    expect(await rows(client, "select id::text, attempts from app_public.retry_job($1)", [mine])).toEqual([
      { id: mine, attempts: 0 },
    ]);
    expect(await value(client, "select app_public.discard_job($1)", [other])).toBe(true);
    expect(await attempts(client, other)).toEqual([]);
    // Retried, a job still shows its last error until it runs; the discarded one is gone.
    expect(await failed(client)).toEqual([mine, running]);
  });
});

test("a job enqueued by a user's action is that tenant's job", async () => {
  await asUser(db, a.owner, async (client) => {
    const victim = await createSqlUser(db, a, "member");
    expect(await errorCode(client, "select app_public.delete_user($1)", [victim.userId])).toBeUndefined();
    const mark = `update graphile_worker._private_jobs set attempts = 1, last_error = 'boom' where key = $1
      returning id::text`;
    const [job] = await asRoot<{ id: string }>(db, client, mark, [`scrub_user:${victim.userId}`]);
    expect(await rows(client, "select id::text, tenant_id from app_public.failed_jobs()")).toEqual([
      { id: job!.id, tenant_id: a.id },
    ]);
    await become(client, b.owner);
    expect(await failed(client)).toEqual([]);
  });
});

test("with the operations module switched off, even the owner is FORBIDDEN", async () => {
  await asUser(db, a.owner, async (client) => {
    const job = await failedJob(client, a.id);
    expect(await errorCode(client, "select app_public.set_tenant_module('operations', false)")).toBeUndefined();
    expect(await errorCode(client, "select * from app_public.failed_jobs()")).toBe("TFORB");
    expect(await retry(client, job)).toBe("TFORB");
    await become(client, b.owner);
    expect(await errorCode(client, "select * from app_public.failed_jobs()")).toBeUndefined();
  });
});

test("releasing workers' locks is for platform operators; an operator sees and acts on every job", async () => {
  await asUser(db, a.owner, async (client) => {
    const theirs = await failedJob(client, b.id);
    const platform = await failedJob(client, null);
    const unlock = (minutes: number) => errorCode(client, "select app_public.unlock_stale_jobs($1)", [minutes]);
    expect(await unlock(15)).toBe("TFORB");
    await become(client, null);
    expect(await unlock(15)).toBe("TAUTH");
    // An operator need not hold any permission in their own tenant.
    await asRoot(db, client, "insert into app_private.platform_operators (user_id) values ($1)", [a.member.userId]);
    await become(client, a.member);
    expect(await failed(client)).toEqual(expect.arrayContaining([theirs, platform]));
    expect(await retry(client, theirs)).toBeUndefined();
    expect(await discard(client, platform)).toBeUndefined();
    expect(await unlock(0)).toBe("TVALD");
    expect(await unlock(1)).toBeUndefined();
    // Being an operator is personal: the tenant's owner gains nothing from it.
    await become(client, a.owner);
    expect(await retry(client, theirs)).toBe("TNFND");
  });
});

test("the request role reaches jobs only through these functions", async () => {
  await asUser(db, a.owner, async (client) => {
    const refused = [
      "select * from graphile_worker.jobs",
      "select graphile_worker.add_job('test_task', '{}')",
      "select * from app_private.platform_operators",
      "insert into app_private.platform_operators (user_id) select app_public.current_user_id()",
    ];
    for (const sql of refused) expect([sql, await errorCode(client, sql)]).toEqual([sql, "42501"]);
  });
});
