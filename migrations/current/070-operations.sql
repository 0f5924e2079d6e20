--------------------------------------------------------------------------------------------------
-- 070-operations: the background jobs of a tenant (failed and locked jobs, retry, discard) and the
-- platform operators' view of every job.
--
-- The module's row in the catalogue and the built-in grants of jobs.manage (owner and admin). A
-- platform operator sees and acts on every job; anyone else goes through the access guard
-- (operations module on, jobs.manage) and sees their tenant's jobs. A job's tenant is the tenantId
-- of its payload, which graphile-worker's public jobs view does not show: app_private.job_tenants
-- is the one place that reads its private table. Operators are named only from the command line,
-- through grant_platform_operator / revoke_platform_operator.

insert into app_public.modules (name, description)
  values ('operations', 'The tenant''s background jobs: failed and running ones, retry and discard.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'jobs.manage'), ('admin', 'jobs.manage')
  on conflict do nothing;

create or replace view app_private.job_tenants as
  select pj.id, app_private.payload_tenant_id(pj.payload) as tenant_id
  from graphile_worker._private_jobs pj;
comment on view app_private.job_tenants is
  E'@module operations\n'
  'The tenant of each job (its payload''s tenantId; null for platform jobs). The payload is not in '
  'graphile-worker''s public jobs view; this view is the one reader of its private table.';

create or replace function app_public.failed_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_operator boolean := app_private.current_user_is_operator();
  v_tenant uuid := app_public.current_tenant_id();
begin
  if not v_operator then
    perform app_private.assert_module_access('operations', 'jobs.manage');
  end if;
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error,
           j.run_at, j.locked_at, j.locked_by, j.key, j.created_at, t.tenant_id
    from graphile_worker.jobs j join app_private.job_tenants t on t.id = j.id
    where j.last_error is not null and (v_operator or t.tenant_id = v_tenant)
    order by j.id;
end;
$$;
comment on function app_public.failed_jobs() is
  E'@module operations\n'
  'Jobs that failed at least once: retrying (runAt = next attempt; attempts < maxAttempts) or out of '
  'attempts. Your tenant''s jobs (needs jobs.manage); every job for platform operators.';

create or replace function app_public.locked_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_operator boolean := app_private.current_user_is_operator();
  v_tenant uuid := app_public.current_tenant_id();
begin
  if not v_operator then
    perform app_private.assert_module_access('operations', 'jobs.manage');
  end if;
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error,
           j.run_at, j.locked_at, j.locked_by, j.key, j.created_at, t.tenant_id
    from graphile_worker.jobs j join app_private.job_tenants t on t.id = j.id
    where j.locked_at is not null and (v_operator or t.tenant_id = v_tenant)
    order by j.locked_at;
end;
$$;
comment on function app_public.locked_jobs() is
  E'@module operations\n'
  'Jobs a worker holds right now — running, or stuck if that worker died. Your tenant''s jobs (needs '
  'jobs.manage); every job for platform operators.';

create or replace function app_public.retry_job(job_id bigint) returns app_public.job_info
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_operator boolean := app_private.current_user_is_operator();
  v_tenant uuid := app_public.current_tenant_id();
  v_job app_public.job_info;
begin
  if not v_operator then
    perform app_private.assert_module_access('operations', 'jobs.manage');
  end if;
  -- Another tenant's job does not exist for the caller: NOT_FOUND, as for a missing one.
  if not exists (
    select 1 from graphile_worker.jobs j join app_private.job_tenants t on t.id = j.id
    where j.id = retry_job.job_id and j.locked_at is null and (v_operator or t.tenant_id = v_tenant)
  ) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.reschedule_jobs(array[retry_job.job_id], run_at => now(), attempts => 0::smallint);
  select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error,
         j.run_at, j.locked_at, j.locked_by, j.key, j.created_at, t.tenant_id
    into v_job
    from graphile_worker.jobs j join app_private.job_tenants t on t.id = j.id
    where j.id = retry_job.job_id;
  return v_job;
end;
$$;
comment on function app_public.retry_job(bigint) is
  E'@module operations\n@resultFieldName job\n'
  'Runs a job again now, with its attempts reset. Your tenant''s jobs (needs jobs.manage); any job for '
  'platform operators.';

create or replace function app_public.discard_job(job_id bigint) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_operator boolean := app_private.current_user_is_operator();
  v_tenant uuid := app_public.current_tenant_id();
begin
  if not v_operator then
    perform app_private.assert_module_access('operations', 'jobs.manage');
  end if;
  if not exists (
    select 1 from graphile_worker.jobs j join app_private.job_tenants t on t.id = j.id
    where j.id = discard_job.job_id and j.locked_at is null and (v_operator or t.tenant_id = v_tenant)
  ) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.complete_jobs(array[discard_job.job_id]);
  return true;
end;
$$;
comment on function app_public.discard_job(bigint) is
  E'@module operations\n@resultFieldName discarded\n'
  'Deletes a job that will not run. Your tenant''s jobs (needs jobs.manage); any job for platform operators.';

-- Written only from the server's command line (`npm run init -- --operator / --revoke-operator`).
create or replace function app_private.grant_platform_operator(user_id uuid) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with granted as (
    insert into app_private.platform_operators (user_id) values (grant_platform_operator.user_id)
      on conflict on constraint platform_operators_pkey do nothing
      returning 1
  )
  select exists (select 1 from granted);
$$;
comment on function app_private.grant_platform_operator(uuid) is
  E'@module operations\nMakes the user a platform operator; false when they already were one.';

create or replace function app_private.revoke_platform_operator(user_id uuid) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with revoked as (
    delete from app_private.platform_operators o where o.user_id = revoke_platform_operator.user_id returning 1
  )
  select exists (select 1 from revoked);
$$;
comment on function app_private.revoke_platform_operator(uuid) is
  E'@module operations\nEnds the user''s platform operator role; false when they were not one.';

drop function if exists app_private.assert_jobs_manager();
drop function if exists app_private.jobs_scope();

comment on type app_public.job_info is
  E'@module operations\nA background job, without its payload (which may hold one-time codes).';
comment on table app_private.platform_operators is
  E'@module operations\n'
  'Users who operate the platform (every tenant''s jobs, workers'' locks). Written only by '
  '`npm run init -- --operator`; never exposed.';
comment on function app_private.current_user_is_operator() is
  E'@module operations\nTrue when the signed-in user is a live platform operator.';
comment on function app_public.unlock_stale_jobs(integer) is
  E'@module operations\n@resultFieldName unlocked\n'
  'Releases the jobs of workers that have held a job longer than this many minutes (at least 1; presumed '
  'dead), so others can run them (platform operators only).';
