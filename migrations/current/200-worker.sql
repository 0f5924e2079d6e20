-- 200-worker: work in progress for the next committed migration (idempotent; re-run by `npm run db -- watch` and by the test setup).

-- Worker liveness. graphile-worker records the pool that holds a job in jobs.locked_by and only
-- frees a dead pool's locks after 4 hours. Each worker pool of ours registers here under that same
-- id and beats every WORKER_HEARTBEAT_SECONDS; any live worker releases the jobs of pools whose
-- heartbeat is older than WORKER_STALE_SECONDS (src/worker/liveness.ts).
create table if not exists app_private.worker_pools (
  id text primary key,
  label text not null,
  hostname text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  beat_at timestamptz not null default now()
);
comment on table app_private.worker_pools is
  'Live graphile-worker pools (id = jobs.locked_by) and their last heartbeat; a stale one is presumed dead and its jobs are released.';

drop function if exists app_private.release_dead_workers(interval);
create function app_private.release_dead_workers(stale_after interval) returns integer
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_dead text[];
  v_jobs integer;
begin
  -- Registered pools that stopped beating...
  select coalesce(array_agg(w.id), '{}') into v_dead
    from app_private.worker_pools w where w.beat_at < now() - release_dead_workers.stale_after;
  -- ...and continuous pools ('pool-…'; run-once pools are 'otpool-…') that never registered but
  -- have held a job that long: a process killed between taking jobs and registering.
  select v_dead || coalesce(array_agg(distinct j.locked_by), '{}') into v_dead
    from graphile_worker._private_jobs j
    where j.locked_by like 'pool-%' and j.locked_at < now() - release_dead_workers.stale_after
      and not exists (select 1 from app_private.worker_pools w where w.id = j.locked_by);
  if cardinality(v_dead) = 0 then
    return 0;
  end if;
  select count(*)::integer into v_jobs from graphile_worker._private_jobs j where j.locked_by = any(v_dead);
  perform graphile_worker.force_unlock_workers(v_dead);
  delete from app_private.worker_pools w where w.id = any(v_dead);
  return v_jobs;
end;
$$;
comment on function app_private.release_dead_workers(interval) is
  'Releases the jobs (and named queues) of worker pools whose heartbeat is older than stale_after; returns how many jobs were released.';

-- One row per (send_email job, recipient) once the SMTP server accepted (or permanently refused)
-- the message: a retried or re-run job skips them, so nobody gets a message twice. message_id is
-- the Message-ID header, stable per job and recipient.
create table if not exists app_private.email_deliveries (
  message_id text primary key,
  job_id bigint not null,
  template text not null,
  outcome text not null check (outcome in ('sent', 'rejected')),
  detail text,
  delivered_at timestamptz not null default now()
);
create index if not exists email_deliveries_job_id_idx on app_private.email_deliveries (job_id);
comment on table app_private.email_deliveries is
  'Messages of send_email jobs already accepted (or permanently refused) by the SMTP server, keyed by Message-ID; rows go when their job is gone.';

drop function if exists app_private.cleanup_email_deliveries();
create function app_private.cleanup_email_deliveries() returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  -- A finished job's rows are never read again (job ids are not reused).
  with deleted as (
    delete from app_private.email_deliveries d
    where not exists (select 1 from graphile_worker._private_jobs j where j.id = d.job_id)
    returning 1
  )
  select count(*)::integer from deleted
$$;
comment on function app_private.cleanup_email_deliveries() is 'Deletes the delivery records of send_email jobs that no longer exist.';

-- Failing jobs are visible from their first failure, not only once out of attempts (25 attempts
-- of exponential backoff take about 4 days): run_at is the next attempt.
create or replace function app_public.failed_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_jobs_manager();
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
           j.locked_at, j.locked_by, j.key, j.created_at
    from graphile_worker.jobs j where j.last_error is not null order by j.id;
end;
$$;
comment on function app_public.failed_jobs() is
  'Jobs that failed at least once: retrying (runAt = next attempt; attempts < maxAttempts) or out of attempts (needs jobs.manage).';
