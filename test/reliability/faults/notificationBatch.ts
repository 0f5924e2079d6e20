/**
 * A batch of jobs whose effect is a notification per person, for the fault tests: a tenant of its
 * own with `people` members taking part in two events; then, in one transaction as a manager's
 * change would, one event moved to start in an hour (a reminder job per participant, all due now,
 * enqueued in one bulk) and the other cancelled (one fan-out job, which also removes that event's
 * reminders). Rows are written as the owner; the triggers enqueue the jobs. E-mail copies are off:
 * the e-mail fault tests count messages.
 *
 * `holdUsers()` keeps some people's rows locked (FOR UPDATE): a reminder or fan-out reaching one
 * of them waits at the notification's insert (its foreign key check), so a job is stuck mid-way
 * until `release()` — how the tests have jobs in flight at the moment they kill or stop a worker.
 */
import type pg from "pg";
import { createTenant, type TestTenant } from "../../helpers/fixtures.ts";

export interface NotificationBatch {
  tenant: TestTenant;
  moved: string;
  cancelled: string;
  users: string[];
  /** Jobs enqueued: the reminders of both events and the fan-out. */
  jobs: number;
}

/**
 * `change: false` leaves the change to the caller (`moveAndCancel()`): with a worker already running,
 * a row to hold must be held before the jobs are due.
 */
export async function notificationBatch(
  pool: pg.Pool,
  people: number,
  options: { change?: boolean } = {},
): Promise<NotificationBatch> {
  const tenant = await createTenant(pool);
  await pool.query(
    `update app_public.tenant_modules set settings = '{"emailNotifications": false}'
     where tenant_id = $1 and module = 'events'`,
    [tenant.id],
  );
  const { rows: users } = await pool.query<{ id: string }>(
    `insert into app_public.users (tenant_id, email, username)
     select $1, 'person' || i || '@' || $2 || '.test', 'person' || i from generate_series(1, $3) i returning id`,
    [tenant.id, tenant.slug, people],
  );
  // Both start in three days: each participant's reminder is due in two (the lead is 24 h).
  const { rows: events } = await pool.query<{ id: string }>(
    `insert into app_public.events (tenant_id, name, starts_at, ends_at, created_by)
     select $1, name, now() + interval '3 days', now() + interval '3 days 2 hours', $2
     from unnest(array['Moved meetup', 'Cancelled meetup']) name returning id`,
    [tenant.id, users[0]!.id],
  );
  const [moved, cancelled] = events.map((event) => event.id) as [string, string];
  await pool.query(
    `insert into app_public.event_participants (tenant_id, event_id, user_id)
     select $1, e, u from unnest($2::uuid[]) e, unnest($3::uuid[]) u`,
    [tenant.id, [moved, cancelled], users.map((user) => user.id)],
  );
  const batch = { tenant, moved, cancelled, users: users.map((user) => user.id), jobs: 2 * people + 1 };
  if (options.change !== false) await moveAndCancel(pool, batch);
  return batch;
}

/** The manager's change that enqueues the batch's due jobs: one event moved, the other cancelled. */
export async function moveAndCancel(pool: pg.Pool, batch: NotificationBatch): Promise<void> {
  await pool.query(
    `update app_public.events set
       starts_at = case when id = $1 then now() + interval '1 hour' else starts_at end,
       ends_at = case when id = $1 then now() + interval '2 hours' else ends_at end,
       rejected_at = case when id = $2 then now() end, rejection_reason = case when id = $2 then 'Storm' end
     where id in ($1, $2)`,
    [batch.moved, batch.cancelled],
  );
}

/** The batch's jobs still in the queue: how often each was tried, whether a worker holds it. */
export async function batchJobRows(
  pool: pg.Pool,
  batch: NotificationBatch,
): Promise<Array<{ attempts: number; locked: boolean }>> {
  const { rows } = await pool.query<{ attempts: number; locked: boolean }>(
    `select j.attempts, j.locked_at is not null as locked from graphile_worker.jobs j
     where j.key = 'event_cancelled:' || $2::uuid
        or j.key in (select 'event_reminder:' || p.id from app_public.event_participants p
                     where p.event_id in ($1::uuid, $2::uuid))`,
    [batch.moved, batch.cancelled],
  );
  return rows;
}

/** How many of the batch's jobs are in the queue (`locked`: only those a worker holds, or only the others). */
export async function batchJobs(pool: pg.Pool, batch: NotificationBatch, locked?: boolean): Promise<number> {
  const rows = await batchJobRows(pool, batch);
  return rows.filter((row) => locked === undefined || row.locked === locked).length;
}

/** The people whose reminders come at these places of the queue's order (0-based). */
export async function remindedAt(pool: pg.Pool, first: number, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ user_id: string }>(
    `select p.user_id from graphile_worker.jobs j
     join app_public.event_participants p on j.key = 'event_reminder:' || p.id
     where j.task_identifier = 'event_reminder' order by j.run_at, j.id offset $1 limit $2`,
    [first, count],
  );
  return rows.map((row) => row.user_id);
}

export interface HeldUsers {
  /** Rolls the holding transaction back: the jobs waiting on these rows go on. Idempotent. */
  release(): Promise<void>;
}

export async function holdUsers(pool: pg.Pool, users: string[]): Promise<HeldUsers> {
  const client = await pool.connect();
  let holding = true;
  await client.query("begin");
  await client.query("select 1 from app_public.users where id = any($1::uuid[]) for update", [users]);
  return {
    async release() {
      if (!holding) return;
      holding = false;
      try {
        await client.query("rollback");
        client.release();
      } catch (error) {
        // The connection is gone (a database restart ended it): the pool must not keep it.
        client.release(error as Error);
      }
    },
  };
}

/** Statements of this database waiting on a lock now (a superuser pool sees every session). */
export async function lockWaiters(rootPool: pg.Pool): Promise<number> {
  const { rows } = await rootPool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
  );
  return rows[0]!.n;
}

/** The batch's notifications so far. */
export async function notified(pool: pg.Pool, batch: NotificationBatch): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "select count(*)::int as n from app_public.instant_notifications where subject_id in ($1, $2)",
    [batch.moved, batch.cancelled],
  );
  return rows[0]!.n;
}

/** Per person: how many reminders of the moved event and cancellations of the other they have. */
export async function notificationsPerPerson(
  pool: pg.Pool,
  batch: NotificationBatch,
): Promise<Array<{ user_id: string; reminders: number; cancellations: number }>> {
  const { rows } = await pool.query<{ user_id: string; reminders: number; cancellations: number }>(
    `select u.id as user_id,
       count(*) filter (where n.kind = 'event_reminder' and n.subject_id = $2)::int as reminders,
       count(*) filter (where n.kind = 'event_cancelled' and n.subject_id = $3)::int as cancellations
     from unnest($1::uuid[]) u(id) left join app_public.instant_notifications n on n.recipient_id = u.id
     group by u.id`,
    [batch.users, batch.moved, batch.cancelled],
  );
  return rows;
}

/** Duplicates (notifications beyond one) and people left without one, over both kinds. */
export function exactlyOnceFigures(rows: Array<{ reminders: number; cancellations: number }>): {
  notifications: number;
  duplicates: number;
  lost: number;
} {
  const counts = rows.flatMap((row) => [row.reminders, row.cancellations]);
  return {
    notifications: counts.reduce((sum, n) => sum + n, 0),
    duplicates: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    lost: counts.filter((n) => n === 0).length,
  };
}
