-- 020-authorization: work in progress for the next committed migration (idempotent; re-run by
-- `npm run db -- watch` and by the test setup).

--------------------------------------------------------------------------------------------------
-- Jobs belong to a tenant; the platform-wide view belongs to operators.
--
-- A job carries its tenant as `tenantId` in its payload (graphile_worker._private_jobs.payload; the
-- graphile_worker.jobs view has no payload column), stamped by app_private.enqueue_job /
-- enqueue_jobs. jobs.manage becomes a tenant permission (owner and admin): it shows and acts on
-- the caller's tenant's jobs only. Platform operators (app_private.platform_operators, granted only
-- from the server's command line: `npm run init -- --operator <email>`) see every job, including
-- jobs without a tenant (cron, platform jobs), and alone may release workers' locks.

create table if not exists app_private.platform_operators (
  user_id uuid primary key references app_public.users on delete cascade,
  granted_at timestamptz not null default now()
);
comment on table app_private.platform_operators is
  'Users who operate the platform (every tenant''s jobs, workers'' locks). Written only by `npm run init -- --operator`; never exposed.';

create or replace function app_private.current_user_is_operator() returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_private.platform_operators o join app_public.users u on u.id = o.user_id
    where o.user_id = app_public.current_user_id() and u.deleted_at is null
  );
$$;
comment on function app_private.current_user_is_operator() is 'True when the signed-in user is a live platform operator.';

update app_public.permissions set description = 'See, retry and discard the background jobs of your tenant.' where name = 'jobs.manage';

-- Built-in owner and admin roles hold every permission, jobs.manage included (tenant-scoped now).
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
    where r.tenant_id = ensure_tenant_identity.tenant_id and r.is_builtin and (
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

insert into app_public.role_permissions (role_id, permission)
  select r.id, 'jobs.manage' from app_public.roles r where r.is_builtin and r.name in ('owner', 'admin')
  on conflict on constraint role_permissions_pkey do nothing;

-- The tenant a payload names (its tenantId, when that is a UUID), or null.
create or replace function app_private.payload_tenant_id(payload json) returns uuid
  language sql immutable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case
    when json_typeof(payload_tenant_id.payload) = 'object'
         and payload_tenant_id.payload->>'tenantId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then (payload_tenant_id.payload->>'tenantId')::uuid
  end;
$$;

-- The tenant of a job about to be enqueued, in this order: the signed-in user's tenant (a request
-- can only enqueue for its own tenant); the transaction setting tessera.tenant_id (set by code that
-- works for a tenant outside a request); the payload's own tenantId; the tenant of the row the
-- payload names (domain_event: its event; userId, participantId, eventId). Null: a platform job.
create or replace function app_private.job_tenant_id(task text, payload json) returns uuid
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  c_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_tenant uuid := app_public.current_tenant_id();
  v_text text;
begin
  if v_tenant is not null then
    return v_tenant;
  end if;
  v_text := nullif(pg_catalog.current_setting('tessera.tenant_id', true), '');
  if v_text ~* c_uuid then
    return v_text::uuid;
  end if;
  if json_typeof(job_tenant_id.payload) is distinct from 'object' then
    return null;
  end if;
  v_tenant := app_private.payload_tenant_id(job_tenant_id.payload);
  if v_tenant is not null then
    return v_tenant;
  end if;
  v_text := job_tenant_id.payload->>'id';
  if job_tenant_id.task = 'domain_event' and v_text ~ '^\d{1,18}$' then
    select e.tenant_id into v_tenant from app_private.domain_events e where e.id = v_text::bigint;
    return v_tenant;
  end if;
  v_text := job_tenant_id.payload->>'userId';
  if v_text ~* c_uuid then
    select u.tenant_id into v_tenant from app_public.users u where u.id = v_text::uuid;
    return v_tenant;
  end if;
  v_text := job_tenant_id.payload->>'participantId';
  if v_text ~* c_uuid then
    select p.tenant_id into v_tenant from app_public.event_participants p where p.id = v_text::uuid;
    return v_tenant;
  end if;
  v_text := job_tenant_id.payload->>'eventId';
  if v_text ~* c_uuid then
    select e.tenant_id into v_tenant from app_public.events e where e.id = v_text::uuid;
    return v_tenant;
  end if;
  return null;
end;
$$;
comment on function app_private.job_tenant_id(text, json) is
  'The tenant a job being enqueued belongs to (session, tessera.tenant_id, payload tenantId, or the row its payload names); null for platform jobs.';

-- A job's payload as enqueued: the request id (as before) and the job's tenant as tenantId.
create or replace function app_private.stamp_job_payload(task text, payload json) returns json
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_payload json := app_private.with_request_id(stamp_job_payload.payload);
  v_tenant uuid;
begin
  if json_typeof(v_payload) is distinct from 'object' then
    return v_payload;
  end if;
  v_tenant := app_private.job_tenant_id(stamp_job_payload.task, stamp_job_payload.payload);
  if v_tenant is null then
    return v_payload;
  end if;
  return (v_payload::jsonb || jsonb_build_object('tenantId', v_tenant))::json;
end;
$$;
comment on function app_private.stamp_job_payload(text, json) is 'Adds the request id and the job''s tenant (tenantId) to a job payload object.';

create or replace function app_private.enqueue_job(
  task text,
  payload json default '{}',
  run_at timestamptz default null,
  job_key text default null,
  max_attempts integer default null,
  queue_name text default null,
  priority integer default null
) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform graphile_worker.add_job(
    identifier => enqueue_job.task,
    payload => app_private.stamp_job_payload(enqueue_job.task, enqueue_job.payload),
    queue_name => enqueue_job.queue_name,
    run_at => enqueue_job.run_at,
    max_attempts => enqueue_job.max_attempts::smallint,
    job_key => enqueue_job.job_key,
    priority => enqueue_job.priority::smallint
  );
end;
$$;

create or replace function app_private.enqueue_jobs(specs graphile_worker.job_spec[]) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if cardinality(enqueue_jobs.specs) > 0 then
    perform graphile_worker.add_jobs(array(
      select row(s.identifier, app_private.stamp_job_payload(s.identifier, s.payload), s.queue_name, s.run_at, s.max_attempts, s.job_key, s.priority, s.flags)::graphile_worker.job_spec
      from unnest(enqueue_jobs.specs) s
    ));
  end if;
end;
$$;

-- job_info shows each job's tenant (null: a platform job).
do $$
begin
  if not exists (
    select 1 from pg_attribute a join pg_type t on t.typrelid = a.attrelid join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'app_public' and t.typname = 'job_info' and a.attname = 'tenant_id' and not a.attisdropped
  ) then
    alter type app_public.job_info add attribute tenant_id uuid;
  end if;
end;
$$;
comment on column app_public.job_info.tenant_id is 'The tenant the job belongs to; null for platform jobs (cron, operators''), which only operators see.';

-- Who may see which jobs: operators every job; holders of jobs.manage their tenant's jobs.
create or replace function app_private.jobs_scope(out is_operator boolean, out tenant_id uuid)
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  is_operator := app_private.current_user_is_operator();
  if not is_operator and not app_public.current_user_has_permission('jobs.manage') then
    raise exception 'This needs the jobs.manage permission' using errcode = 'TFORB';
  end if;
  tenant_id := app_public.current_tenant_id();
end;
$$;
comment on function app_private.jobs_scope() is
  'The caller''s view of the queue: every job for an operator, else the tenant''s jobs (needs jobs.manage); raises otherwise.';

-- Kept for callers of the old name: any job manager (operator or jobs.manage).
create or replace function app_private.assert_jobs_manager() returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.jobs_scope();
end;
$$;

create or replace function app_public.failed_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_scope record;
begin
  select * into v_scope from app_private.jobs_scope();
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
           j.locked_at, j.locked_by, j.key, j.created_at, app_private.payload_tenant_id(pj.payload)
    from graphile_worker.jobs j join graphile_worker._private_jobs pj on pj.id = j.id
    where j.last_error is not null
      and (v_scope.is_operator or app_private.payload_tenant_id(pj.payload) = v_scope.tenant_id)
    order by j.id;
end;
$$;
comment on function app_public.failed_jobs() is
  'Jobs that failed at least once: retrying (runAt = next attempt; attempts < maxAttempts) or out of attempts. Your tenant''s jobs (needs jobs.manage); every job for platform operators.';

create or replace function app_public.locked_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_scope record;
begin
  select * into v_scope from app_private.jobs_scope();
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
           j.locked_at, j.locked_by, j.key, j.created_at, app_private.payload_tenant_id(pj.payload)
    from graphile_worker.jobs j join graphile_worker._private_jobs pj on pj.id = j.id
    where j.locked_at is not null
      and (v_scope.is_operator or app_private.payload_tenant_id(pj.payload) = v_scope.tenant_id)
    order by j.locked_at;
end;
$$;
comment on function app_public.locked_jobs() is
  'Jobs a worker holds right now — running, or stuck if that worker died. Your tenant''s jobs (needs jobs.manage); every job for platform operators.';

create or replace function app_public.retry_job(job_id bigint) returns app_public.job_info
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_scope record;
  v_job app_public.job_info;
begin
  select * into v_scope from app_private.jobs_scope();
  -- Another tenant's job does not exist for the caller: NOT_FOUND, as for a missing one.
  if not exists (
    select 1 from graphile_worker.jobs j join graphile_worker._private_jobs pj on pj.id = j.id
    where j.id = retry_job.job_id and j.locked_at is null
      and (v_scope.is_operator or app_private.payload_tenant_id(pj.payload) = v_scope.tenant_id)
  ) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.reschedule_jobs(array[retry_job.job_id], run_at => now(), attempts => 0::smallint);
  select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
         j.locked_at, j.locked_by, j.key, j.created_at, app_private.payload_tenant_id(pj.payload)
    into v_job from graphile_worker.jobs j join graphile_worker._private_jobs pj on pj.id = j.id where j.id = retry_job.job_id;
  return v_job;
end;
$$;
comment on function app_public.retry_job(bigint) is
  E'@resultFieldName job\nRuns a job again now, with its attempts reset. Your tenant''s jobs (needs jobs.manage); any job for platform operators.';

create or replace function app_public.discard_job(job_id bigint) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_scope record;
begin
  select * into v_scope from app_private.jobs_scope();
  if not exists (
    select 1 from graphile_worker.jobs j join graphile_worker._private_jobs pj on pj.id = j.id
    where j.id = discard_job.job_id and j.locked_at is null
      and (v_scope.is_operator or app_private.payload_tenant_id(pj.payload) = v_scope.tenant_id)
  ) then
    raise exception 'No such job, or it is running' using errcode = 'TNFND';
  end if;
  perform graphile_worker.complete_jobs(array[discard_job.job_id]);
  return true;
end;
$$;
comment on function app_public.discard_job(bigint) is
  E'@resultFieldName discarded\nDeletes a job that will not run. Your tenant''s jobs (needs jobs.manage); any job for platform operators.';

-- Releasing a worker releases every job it holds, whatever their tenants: operators only.
create or replace function app_public.unlock_stale_jobs(locked_for_minutes integer default 15) returns integer
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_workers text[];
  v_count integer;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_private.current_user_is_operator() then
    raise exception 'Releasing workers'' locks is for platform operators' using errcode = 'TFORB';
  end if;
  select array_agg(distinct j.locked_by), count(*) into v_workers, v_count
    from graphile_worker.jobs j where j.locked_at < now() - make_interval(mins => unlock_stale_jobs.locked_for_minutes);
  if v_count > 0 then
    perform graphile_worker.force_unlock_workers(v_workers);
  end if;
  return v_count;
end;
$$;
comment on function app_public.unlock_stale_jobs(integer) is
  E'@resultFieldName unlocked\nReleases the jobs of workers that have held a job longer than this (presumed dead), so others can run them (platform operators only).';

--------------------------------------------------------------------------------------------------
-- Role hierarchy. Built-in ranks: owner 1 > admin 2 > manager 3 > member 4. A user's rank is
-- their best built-in role's (member's when they hold none). Nobody grants a built-in role above
-- their own rank; a custom role only by someone who holds every permission it grants. A user may
-- be deleted only by someone who could grant each of their roles, never by themselves; a tenant
-- always keeps a live owner.

create or replace function app_private.builtin_role_rank(role_name text) returns integer
  language sql immutable
  set search_path to pg_catalog, public, pg_temp
as $$
  select array_position(array['owner', 'admin', 'manager', 'member'], builtin_role_rank.role_name);
$$;

create or replace function app_private.user_rank(user_id uuid) returns integer
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce(min(app_private.builtin_role_rank(r.name)), 4)
  from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id
  where ur.user_id = user_rank.user_id and r.is_builtin;
$$;
comment on function app_private.user_rank(uuid) is 'Rank of a user''s best built-in role: owner 1, admin 2, manager 3, member 4 (also for no built-in role).';

create or replace function app_private.can_grant_role(grantor_id uuid, role_id uuid) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case
    when r.is_builtin then coalesce(app_private.builtin_role_rank(r.name), 4) >= app_private.user_rank(can_grant_role.grantor_id)
    else not exists (
      select 1 from app_public.role_permissions rp
      where rp.role_id = r.id
        and not exists (
          select 1 from app_public.user_roles gur join app_public.role_permissions grp on grp.role_id = gur.role_id
          join app_public.roles gr on gr.id = gur.role_id
          where gur.user_id = can_grant_role.grantor_id and gr.tenant_id = r.tenant_id and grp.permission = rp.permission
        )
    )
  end
  from app_public.roles r where r.id = can_grant_role.role_id;
$$;
comment on function app_private.can_grant_role(uuid, uuid) is
  'True when the grantor may grant the role: a built-in role not above their rank, or a custom role whose every permission they hold.';

create or replace function app_private.tenant_has_live_owner(tenant_id uuid, except_user_id uuid default null) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_public.user_roles ur
    join app_public.roles r on r.id = ur.role_id
    join app_public.users u on u.id = ur.user_id
    where r.tenant_id = tenant_has_live_owner.tenant_id and r.is_builtin and r.name = 'owner'
      and u.deleted_at is null and not u.is_system
      and u.id is distinct from tenant_has_live_owner.except_user_id
  );
$$;

create or replace function app_public.create_user(email citext, username citext, full_name text default null, roles text[] default array['member']) returns app_public.users
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_found int;
  v_role app_public.roles;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  for v_role in select * from app_public.roles r where r.tenant_id = app_public.current_tenant_id() and r.name = any(create_user.roles) loop
    if not app_private.can_grant_role(app_public.current_user_id(), v_role.id) then
      raise exception 'You cannot grant the role %: it is above your own', v_role.name
        using errcode = 'TFORB', detail = json_build_object('reason', 'ROLE_ABOVE_YOURS', 'role', v_role.name)::text;
    end if;
  end loop;
  if exists (select 1 from app_public.users u where u.tenant_id = app_public.current_tenant_id() and u.email = create_user.email) then
    raise exception 'That e-mail is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"EMAIL_TAKEN"}';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = app_public.current_tenant_id() and u.username = create_user.username) then
    raise exception 'That username is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"USERNAME_TAKEN"}';
  end if;
  insert into app_public.users (tenant_id, email, username, full_name)
    values (app_public.current_tenant_id(), create_user.email, create_user.username, create_user.full_name)
    returning * into v_user;
  insert into app_public.user_roles (user_id, role_id)
    select v_user.id, r.id from app_public.roles r
    where r.tenant_id = app_public.current_tenant_id() and r.name = any(create_user.roles);
  get diagnostics v_found = row_count;
  if v_found <> cardinality(array(select distinct unnest(create_user.roles))) then
    raise exception 'Unknown role in %', create_user.roles using errcode = 'TVALD', detail = '{"field":"roles"}';
  end if;
  insert into app_private.user_secrets (user_id) values (v_user.id);
  return v_user;
end;
$$;
comment on function app_public.create_user(citext, citext, text, text[]) is
  E'@resultFieldName user\nCreates a user of the current tenant with the given roles (needs users.manage; FORBIDDEN, details.reason ROLE_ABOVE_YOURS, for a role above your own). The user sets a password through forgotPassword.';

create or replace function app_public.delete_user(user_id uuid) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_caller uuid := app_public.current_user_id();
  v_tenant uuid := app_public.current_tenant_id();
  v_target app_public.users;
begin
  if v_caller is null then
    raise exception 'Sign in to delete users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Deleting users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  if delete_user.user_id = v_caller then
    raise exception 'You cannot delete yourself' using errcode = 'TFORB', detail = '{"reason":"SELF_DELETION"}';
  end if;
  -- Every change of a tenant's owners takes this lock first, so the owner count below already
  -- includes any concurrent deletion: two owners deleting each other cannot leave none.
  perform 1 from app_public.tenants t where t.id = v_tenant for no key update;
  select * into v_target from app_public.users u
    where u.id = delete_user.user_id and u.tenant_id = v_tenant and u.deleted_at is null and not u.is_system;
  if not found then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  if exists (
    select 1 from app_public.user_roles ur where ur.user_id = v_target.id and not app_private.can_grant_role(v_caller, ur.role_id)
  ) then
    raise exception 'You cannot delete a user whose role is above your own' using errcode = 'TFORB', detail = '{"reason":"ROLE_ABOVE_YOURS"}';
  end if;
  if exists (
    select 1 from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id
    where ur.user_id = v_target.id and r.is_builtin and r.name = 'owner'
  ) and not app_private.tenant_has_live_owner(v_tenant, v_target.id) then
    raise exception 'The last owner of a tenant cannot be deleted' using errcode = 'TCONF', detail = '{"reason":"LAST_OWNER"}';
  end if;
  update app_public.users u set deleted_at = now() where u.id = v_target.id;
  update app_private.sessions s set revoked_at = now(), revoked_reason = 'user_deleted'
    where s.user_id = v_target.id and s.revoked_at is null;
  perform app_private.enqueue_job('scrub_user', json_build_object('userId', v_target.id), job_key => 'scrub_user:' || v_target.id);
  return true;
end;
$$;
comment on function app_public.delete_user(uuid) is
  E'@resultFieldName deleted\nSoft-deletes a user of the current tenant (needs users.manage): revokes every session; a job scrubs personal data. FORBIDDEN for yourself (details.reason SELF_DELETION) or a user whose role is above yours (ROLE_ABOVE_YOURS); CONFLICT (LAST_OWNER) for the tenant''s last owner.';

-- Backstop for every other path (direct SQL, future role changes): a change that takes away a
-- tenant's last live owner — deleting or soft-deleting them, removing or moving their owner role —
-- is refused. It takes the same tenant lock as delete_user. A tenant being deleted is exempt.
create or replace function app_private.tg__keep_an_owner() returns trigger
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid;
begin
  if tg_table_name = 'users' then
    if old.deleted_at is not null or new.deleted_at is null then
      return null;
    end if;
    select r.tenant_id into v_tenant from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id
      where ur.user_id = old.id and r.is_builtin and r.name = 'owner';
  else
    if tg_op = 'UPDATE' and new.user_id = old.user_id and new.role_id = old.role_id then
      return null;
    end if;
    select r.tenant_id into v_tenant from app_public.roles r where r.id = old.role_id and r.is_builtin and r.name = 'owner';
  end if;
  if v_tenant is null then
    return null;
  end if;
  perform 1 from app_public.tenants t where t.id = v_tenant for no key update;
  if not found then
    return null;
  end if;
  if not app_private.tenant_has_live_owner(v_tenant) then
    raise exception 'The last owner of a tenant cannot be removed' using errcode = 'TCONF', detail = '{"reason":"LAST_OWNER"}';
  end if;
  return null;
end;
$$;
comment on function app_private.tg__keep_an_owner() is 'Refuses a change that leaves a tenant without a live owner (CONFLICT, LAST_OWNER).';

drop trigger if exists _800_keep_an_owner on app_public.users;
create trigger _800_keep_an_owner after update of deleted_at on app_public.users
  for each row execute function app_private.tg__keep_an_owner();
drop trigger if exists _800_keep_an_owner on app_public.user_roles;
create trigger _800_keep_an_owner after update or delete on app_public.user_roles
  for each row execute function app_private.tg__keep_an_owner();
