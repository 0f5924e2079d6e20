--! Previous: sha1:d05a5d3ae7aaeb7656532f65e6fdad012d968b4f
--! Hash: sha1:297593a240bab175779cc1e1674a6ca6ecd8491f
--! Message: operations: failed and stuck jobs view with retry, discard and unlock

-- Idempotent while in development.
drop function if exists app_public.failed_jobs cascade;
drop function if exists app_public.locked_jobs cascade;
drop function if exists app_public.retry_job cascade;
drop function if exists app_public.discard_job cascade;
drop function if exists app_public.unlock_stale_jobs cascade;
drop function if exists app_private.assert_jobs_manager cascade;
drop type if exists app_public.job_info cascade;

-- The queue is shared by every tenant, so this permission is for the platform's operators: no
-- built-in role gets it; `npm run init` grants it to the bootstrap tenant's owner role.
insert into app_public.permissions (name, description)
  values ('jobs.manage', 'See, retry, discard and unlock background jobs of the whole platform (operators only).')
  on conflict (name) do nothing;

-- Built-in roles get every permission except the platform operators' one.
create or replace function app_private.ensure_tenant_identity(tenant_id uuid) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_slug text;
begin
  insert into app_public.roles (tenant_id, name, is_builtin)
    select ensure_tenant_identity.tenant_id, r.name, true from unnest(array['owner', 'admin', 'manager', 'member']) as r(name)
    on conflict on constraint roles_tenant_id_name_key do nothing;
  insert into app_public.role_permissions (role_id, permission)
    select r.id, p.name
    from app_public.roles r cross join app_public.permissions p
    where r.tenant_id = ensure_tenant_identity.tenant_id and r.is_builtin and p.name <> 'jobs.manage' and (
      r.name in ('owner', 'admin')
      or (r.name = 'manager' and p.name in ('events.manage', 'catalog.manage', 'orders.read', 'broadcasts.manage', 'builds.request', 'payments.read'))
    )
    on conflict on constraint role_permissions_pkey do nothing;
  select slug into v_slug from app_public.tenants t where t.id = ensure_tenant_identity.tenant_id;
  insert into app_public.users (tenant_id, email, username, full_name, is_system)
    values (ensure_tenant_identity.tenant_id, 'system@' || v_slug || '.tessera.invalid', 'system', 'System', true)
    on conflict on constraint users_tenant_id_username_key do nothing;
end;
$$;

create type app_public.job_info as (
  id bigint,
  task text,
  queue_name text,
  attempts integer,
  max_attempts integer,
  last_error text,
  run_at timestamptz,
  locked_at timestamptz,
  locked_by text,
  key text,
  created_at timestamptz
);
comment on type app_public.job_info is 'A background job, without its payload (which may hold one-time codes).';

create function app_private.assert_jobs_manager() returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('jobs.manage') then
    raise exception 'This needs the jobs.manage permission' using errcode = 'TFORB';
  end if;
end;
$$;

create function app_public.failed_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_jobs_manager();
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
           j.locked_at, j.locked_by, j.key, j.created_at
    from graphile_worker.jobs j where j.attempts >= j.max_attempts order by j.id;
end;
$$;
comment on function app_public.failed_jobs() is 'Jobs that ran out of attempts (needs jobs.manage).';

create function app_public.locked_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_jobs_manager();
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
           j.locked_at, j.locked_by, j.key, j.created_at
    from graphile_worker.jobs j where j.locked_at is not null order by j.locked_at;
end;
$$;
comment on function app_public.locked_jobs() is 'Jobs a worker holds right now — running, or stuck if that worker died (needs jobs.manage).';

create function app_public.retry_job(job_id bigint) returns app_public.job_info
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_job app_public.job_info;
begin
  perform app_private.assert_jobs_manager();
  if not exists (select 1 from graphile_worker.jobs j where j.id = retry_job.job_id and j.locked_at is null) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.reschedule_jobs(array[retry_job.job_id], run_at => now(), attempts => 0::smallint);
  select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
         j.locked_at, j.locked_by, j.key, j.created_at
    into v_job from graphile_worker.jobs j where j.id = retry_job.job_id;
  return v_job;
end;
$$;
comment on function app_public.retry_job(bigint) is E'@resultFieldName job\nRuns a job again now, with its attempts reset (needs jobs.manage).';

create function app_public.discard_job(job_id bigint) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_jobs_manager();
  if not exists (select 1 from graphile_worker.jobs j where j.id = discard_job.job_id and j.locked_at is null) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.complete_jobs(array[discard_job.job_id]);
  return true;
end;
$$;
comment on function app_public.discard_job(bigint) is E'@resultFieldName discarded\nDeletes a job that will not run (needs jobs.manage).';

create function app_public.unlock_stale_jobs(locked_for_minutes integer default 15) returns integer
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_workers text[];
  v_count integer;
begin
  perform app_private.assert_jobs_manager();
  select array_agg(distinct j.locked_by), count(*) into v_workers, v_count
    from graphile_worker.jobs j where j.locked_at < now() - make_interval(mins => unlock_stale_jobs.locked_for_minutes);
  if v_count > 0 then
    perform graphile_worker.force_unlock_workers(v_workers);
  end if;
  return v_count;
end;
$$;
comment on function app_public.unlock_stale_jobs(integer) is
  E'@resultFieldName unlocked\nReleases the jobs of workers that have held a job longer than this (presumed dead), so others can run them (needs jobs.manage).';
