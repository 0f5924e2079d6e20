--! Previous: sha1:c3d5963c784f512ff8a82d1e34876e06b124f815
--! Hash: sha1:dc5907480fa99f3830108b997ceb333cdb2df1a0
--! Message: Operations: one function says which jobs a caller may act on; retry and unlock are app_private functions the API and the operator's commands share

--! split: 070-operations.sql
-- The job functions say once which jobs a caller may see (app_private.caller_jobs), and the state
-- changes live in app_private functions the API and the operator's commands (`npm run task -- retry
-- | unlock-workers`) share, instead of each writing its own SQL.

create or replace function app_private.caller_jobs() returns setof app_public.job_info
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_operator boolean := app_private.current_user_is_operator();
begin
  if not v_operator then
    perform app_private.assert_module_access('operations', 'jobs.manage');
  end if;
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error,
           j.run_at, j.locked_at, j.locked_by, j.key, j.created_at, t.tenant_id
    from graphile_worker.jobs j join app_private.job_tenants t on t.id = j.id
    where v_operator or t.tenant_id = app_public.current_tenant_id();
end;
$$;
comment on function app_private.caller_jobs() is
  E'@module operations\n'
  'The jobs the caller may see and act on: every job for a platform operator; otherwise, through the '
  'access guard (operations module on, jobs.manage), the caller''s tenant''s jobs.';

create or replace function app_private.retry_job(job_id bigint) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from graphile_worker.reschedule_jobs(array[retry_job.job_id], run_at => now(), attempts => 0::smallint)
  );
$$;
comment on function app_private.retry_job(bigint) is
  E'@module operations\n'
  'Runs a job again now with its attempts reset; false when there is no such job or a worker holds it.';

create or replace function app_private.unlock_stale_jobs(locked_for interval, out jobs integer, out workers integer)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_workers text[];
begin
  select array_agg(distinct j.locked_by), count(*) into v_workers, unlock_stale_jobs.jobs
    from graphile_worker.jobs j where j.locked_at < now() - unlock_stale_jobs.locked_for;
  unlock_stale_jobs.workers := coalesce(cardinality(v_workers), 0);
  if unlock_stale_jobs.jobs > 0 then
    perform graphile_worker.force_unlock_workers(v_workers);
  end if;
end;
$$;
comment on function app_private.unlock_stale_jobs(interval) is
  E'@module operations\n'
  'Releases every job of the workers that have held a job longer than locked_for (presumed dead), so '
  'others can run them; answers how many jobs were held too long and by how many workers.';

create or replace function app_public.failed_jobs() returns setof app_public.job_info
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select * from app_private.caller_jobs() j where j.last_error is not null order by j.id;
$$;

create or replace function app_public.locked_jobs() returns setof app_public.job_info
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select * from app_private.caller_jobs() j where j.locked_at is not null order by j.locked_at;
$$;

create or replace function app_public.retry_job(job_id bigint) returns app_public.job_info
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_job app_public.job_info;
begin
  -- Another tenant's job does not exist for the caller: NOT_FOUND, as for a missing one.
  if not exists (select 1 from app_private.caller_jobs() j where j.id = retry_job.job_id and j.locked_at is null) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  if not app_private.retry_job(retry_job.job_id) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  select * into v_job from app_private.caller_jobs() j where j.id = retry_job.job_id;
  return v_job;
end;
$$;

create or replace function app_public.discard_job(job_id bigint) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if not exists (select 1 from app_private.caller_jobs() j where j.id = discard_job.job_id and j.locked_at is null) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.complete_jobs(array[discard_job.job_id]);
  return true;
end;
$$;

create or replace function app_public.unlock_stale_jobs(locked_for_minutes integer default 15) returns integer
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_private.current_user_is_operator() then
    raise exception 'Releasing workers'' locks is for platform operators' using errcode = 'TFORB';
  end if;
  if unlock_stale_jobs.locked_for_minutes is null or unlock_stale_jobs.locked_for_minutes < 1 then
    raise exception 'lockedForMinutes must be at least 1'
      using errcode = 'TVALD', detail = '{"field":"lockedForMinutes"}';
  end if;
  return (app_private.unlock_stale_jobs(make_interval(mins => unlock_stale_jobs.locked_for_minutes))).jobs;
end;
$$;
