--! Previous: sha1:bea7ef08d2aebdce9de00b8a6e0205fd0399daea
--! Hash: sha1:9fbfd13908a1dfd134671164890b381c627ccc69
--! Message: security: images per tenant, jobs per tenant with platform operators, role hierarchy and last owner, session claims and suspension, atomic rate limits, e-mail jobs carry their tenant

--! split: 1-current.sql
-- Enter migration here

--! split: 010-images.sql
--------------------------------------------------------------------------------------------------
-- Images: per-tenant records over a shared, content-addressed byte store. A tenant's upload is a
-- row of its own (its unguessable id is the capability URL /api/images/<id>); the same bytes
-- uploaded by several tenants are stored once, but no tenant can tell that another holds them.

create table if not exists app_public.images (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text check (content_type in ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
  size integer check (size > 0),
  uploaded_by uuid references app_public.users on delete set null,
  created_at timestamptz not null default now(),
  constraint images_tenant_sha256_key unique (tenant_id, sha256)
);
create index if not exists images_uploaded_by_idx on app_public.images (uploaded_by);
alter table app_public.images enable row level security;
drop policy if exists select_own_tenant on app_public.images;
create policy select_own_tenant on app_public.images for select using (tenant_id = (select app_public.current_tenant_id()));
-- Rows are written by the upload route (owner role) with the tenant and user of the verified session.
revoke all on app_public.images from :DATABASE_VISITOR;
grant select on app_public.images to :DATABASE_VISITOR;
comment on table app_public.images is E'@behavior -insert -update -delete\nAn image uploaded by the tenant; served to anyone holding its URL /api/images/<id>. The bytes are stored once by SHA-256, whichever tenants uploaded them.';
comment on column app_public.images.id is 'Unguessable: the secret of the image''s public URL /api/images/<id>.';
comment on column app_public.images.sha256 is 'SHA-256 of the bytes, their key in the shared store.';
comment on column app_public.images.content_type is 'The type sniffed from the bytes at upload (null for records made from links older than this table).';
comment on column app_public.images.size is 'Bytes (null for records made from links older than this table).';

-- Event images link to a tenant's image record, no longer to the bytes' hash. Links of the former
-- form /api/images/<sha256> become records of the event's tenant, so they keep working.
insert into app_public.images (tenant_id, sha256, uploaded_by)
  select distinct on (e.tenant_id, substr(e.image, 13)) e.tenant_id, substr(e.image, 13), e.created_by
  from app_public.events e
  where e.image ~ '^/api/images/[0-9a-f]{64}$'
  order by e.tenant_id, substr(e.image, 13), e.created_at
on conflict (tenant_id, sha256) do nothing;
alter table app_public.events drop constraint if exists events_image_check;
update app_public.events e set image = '/api/images/' || i.id
  from app_public.images i
  where e.image ~ '^/api/images/[0-9a-f]{64}$' and i.tenant_id = e.tenant_id and i.sha256 = substr(e.image, 13);
alter table app_public.events add constraint events_image_check
  check (image ~ '^(https?://\S+|/api/images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$');
comment on column app_public.events.image is 'An image URL, or /api/images/<id> of an image uploaded by the tenant.';

--! split: 020-authorization.sql
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

--! split: 030-sessions.sql
--------------------------------------------------------------------------------------------------
-- 030-sessions: the session decides who a request is, and ending a session reaches live sockets.
--
-- The API no longer trusts the user, tenant and role written in an access token: on every request
-- it asks app_hidden.session_claims(sid) and uses the database's answer (a token whose sub/tid
-- disagree with it is refused). A session counts as live while it is neither revoked nor expired,
-- its user is not deleted and its tenant is active. Revoking a session or suspending a tenant
-- NOTIFYs `tessera:sessions_ended`, so the API ends the subscriptions that depend on it at once.

drop function if exists app_hidden.session_is_live(uuid);

-- The claims of live sessions among the given ids: user, tenant, and the highest built-in role the
-- user holds now (owner > admin > manager > member; a user with custom roles only gets the first
-- of them by name; a user without roles is a member) — the rank AuthService signs into tokens.
-- An array so that the API can re-check every open WebSocket's session in one statement.
create or replace function app_hidden.session_claims(session_ids uuid[])
  returns table (session_id uuid, user_id uuid, tenant_id uuid, role text)
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.id, s.user_id, s.tenant_id,
         coalesce(
           (select r.name from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id
            where ur.user_id = s.user_id
            order by array_position(array['owner', 'admin', 'manager', 'member'], r.name) nulls last, r.name
            limit 1),
           'member')
  from app_private.sessions s
  join app_public.users u on u.id = s.user_id
  join app_public.tenants t on t.id = s.tenant_id
  where s.id = any(session_claims.session_ids)
    and s.revoked_at is null and s.expires_at > now()
    and u.deleted_at is null and t.status = 'active';
$$;
comment on function app_hidden.session_claims(uuid[]) is
  'The user, tenant and current highest role of each given session that is live: not revoked, not expired, user not deleted, tenant active.';
revoke all on function app_hidden.session_claims(uuid[]) from public, :DATABASE_VISITOR;
grant usage on schema app_hidden to :DATABASE_AUTHENTICATOR;
grant execute on function app_hidden.session_claims(uuid[]) to :DATABASE_AUTHENTICATOR;

-- The SQL helpers apply the same liveness rule as the API's check (the tenant must be active).
create or replace function app_public.current_session_id() returns uuid
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.id from app_private.sessions s
  join app_public.tenants t on t.id = s.tenant_id
  where s.id = nullif(pg_catalog.current_setting('jwt.claims.session_id', true), '')::uuid
    and s.revoked_at is null and s.expires_at > now() and t.status = 'active';
$$;
comment on function app_public.current_session_id() is 'The session of the request, or null when anonymous, when the session is revoked or expired, or when its tenant is suspended.';

-- No new session for a user of a suspended tenant (login, 2FA completion, confirmed registration):
-- the same answer as an unknown user.
create or replace function app_private.create_session(user_id uuid, refresh_token_hash bytea, ttl interval, user_agent text, ip inet)
  returns uuid
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_session_id uuid;
begin
  insert into app_private.sessions (user_id, tenant_id, expires_at, user_agent, ip)
    select u.id, u.tenant_id, now() + create_session.ttl, left(create_session.user_agent, 300), create_session.ip
    from app_public.users u join app_public.tenants t on t.id = u.tenant_id
    where u.id = create_session.user_id and u.deleted_at is null and not u.is_system and t.status = 'active'
    returning id into v_session_id;
  if v_session_id is null then
    raise exception 'No such user' using errcode = 'TCRED';
  end if;
  insert into app_private.refresh_tokens (session_id, token_hash) values (v_session_id, create_session.refresh_token_hash);
  return v_session_id;
end;
$$;

-- Rotates a refresh token (body of migration 000007) — and a session whose tenant is suspended is
-- 'invalid' (INVALID_TOKEN), like a revoked or expired one; the session itself is kept, so it works
-- again if the tenant is reactivated before it expires.
create or replace function app_private.rotate_refresh_token(
  token_hash bytea, new_token_hash bytea, grace_period interval,
  out status text, out session_id uuid, out user_id uuid, out tenant_id uuid
)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_token app_private.refresh_tokens;
  v_session app_private.sessions;
  v_child app_private.refresh_tokens;
begin
  select * into v_token from app_private.refresh_tokens t where t.token_hash = rotate_refresh_token.token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  select * into v_session from app_private.sessions s where s.id = v_token.session_id for update;
  if v_session.revoked_at is not null or v_session.expires_at <= now()
     or exists (select 1 from app_public.users u where u.id = v_session.user_id and u.deleted_at is not null)
     or not exists (select 1 from app_public.tenants t where t.id = v_session.tenant_id and t.status = 'active') then
    status := 'invalid';
    return;
  end if;
  if v_token.rotated_at is not null then
    select * into v_child from app_private.refresh_tokens t where t.parent_id = v_token.id;
    if v_token.rotated_at > now() - rotate_refresh_token.grace_period
       and v_child.token_hash = rotate_refresh_token.new_token_hash and v_child.rotated_at is null then
      -- The same presentation again (concurrent, or a retry of a lost answer): the same successor.
      status := 'ok';
    else
      update app_private.sessions s set revoked_at = now(), revoked_reason = 'refresh_token_reused' where s.id = v_session.id;
      status := 'reused';
      return;
    end if;
  else
    update app_private.refresh_tokens t set rotated_at = now() where t.id = v_token.id;
    insert into app_private.refresh_tokens (session_id, token_hash, parent_id)
      values (v_session.id, rotate_refresh_token.new_token_hash, v_token.id);
    update app_private.sessions s set last_refreshed_at = now() where s.id = v_session.id;
    status := 'ok';
  end if;
  session_id := v_session.id;
  user_id := v_session.user_id;
  tenant_id := v_session.tenant_id;
end;
$$;

-- Ended sessions reach the API's open WebSockets: one NOTIFY per revoked session, one per tenant
-- leaving 'active'. Delivered at commit; the payload carries ids only.
create or replace function app_private.tg_sessions__notify_revoked() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('tessera:sessions_ended', json_build_object('sessionId', new.id)::text);
  return null;
end;
$$;
drop trigger if exists _500_notify_revoked on app_private.sessions;
create trigger _500_notify_revoked after update of revoked_at on app_private.sessions
  for each row when (old.revoked_at is null and new.revoked_at is not null)
  execute function app_private.tg_sessions__notify_revoked();

create or replace function app_private.tg_tenants__notify_suspended() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('tessera:sessions_ended', json_build_object('tenantId', new.id)::text);
  return null;
end;
$$;
drop trigger if exists _500_notify_suspended on app_public.tenants;
create trigger _500_notify_suspended after update of status on app_public.tenants
  for each row when (old.status = 'active' and new.status <> 'active')
  execute function app_private.tg_tenants__notify_suspended();

--! split: 040-limits.sql
-- Rate limits are counted by the server before the work, in one statement per bucket
-- (src/auth/limits.ts: insert … on conflict do update … where hits < max returning hits), with a
-- clock tests can pin. The check-then-record helpers are no longer used.
drop function if exists app_private.rate_limit_retry_after(text, integer, interval);
drop function if exists app_private.rate_limit_hit(text, interval);

--! split: 050-job-tenants.sql
-- 050-job-tenants: the e-mails that identity and events send from outside a request carry their
-- tenant too (payload tenantId), so a tenant's owners and admins see their own e-mail jobs in
-- failedJobs / lockedJobs. Bodies as before, plus the tenant in each send_email payload.

create or replace function app_private.issue_registration(
  tenant_id uuid, email citext, username citext, full_name text, password_hash text,
  token_hash bytea, code_hash bytea, code text, ttl interval
) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.email = issue_registration.email) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'registration_exists', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id));
    return 'email_taken';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.username = issue_registration.username) then
    return 'username_taken';
  end if;
  insert into app_private.registrations (tenant_id, email, username, full_name, password_hash, token_hash, code_hash, expires_at)
    values (issue_registration.tenant_id, issue_registration.email, issue_registration.username, issue_registration.full_name,
            issue_registration.password_hash, issue_registration.token_hash, issue_registration.code_hash, now() + issue_registration.ttl);
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'registration_code', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id,
    'data', json_build_object('code', issue_registration.code, 'minutes', extract(epoch from issue_registration.ttl)::integer / 60)));
  return 'issued';
end;
$$;

create or replace function app_private.set_password(user_id uuid, password_hash text, keep_session_id uuid, reason text) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
  v_tenant uuid;
begin
  insert into app_private.user_secrets as s (user_id, password_hash, password_changed_at)
    values (set_password.user_id, set_password.password_hash, now())
    on conflict on constraint user_secrets_pkey do update set password_hash = excluded.password_hash, password_changed_at = now();
  perform app_private.revoke_sessions(set_password.user_id, set_password.reason, set_password.keep_session_id);
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = set_password.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'password_changed', 'to', v_email, 'tenantId', v_tenant));
end;
$$;

create or replace function app_private.issue_password_reset(tenant_id uuid, email citext, token_hash bytea, token text, ttl interval) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user_id uuid;
begin
  select u.id into v_user_id from app_public.users u
    where u.tenant_id = issue_password_reset.tenant_id and u.email = issue_password_reset.email and u.deleted_at is null and not u.is_system;
  if v_user_id is null then
    return;
  end if;
  insert into app_private.password_resets (user_id, token_hash, expires_at)
    values (v_user_id, issue_password_reset.token_hash, now() + issue_password_reset.ttl);
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'password_reset', 'to', issue_password_reset.email, 'tenantId', issue_password_reset.tenant_id,
    'data', json_build_object('token', issue_password_reset.token, 'minutes', extract(epoch from issue_password_reset.ttl)::integer / 60)));
end;
$$;

create or replace function app_private.enable_two_factor(user_id uuid, step bigint, recovery_code_hashes bytea[]) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
  v_tenant uuid;
begin
  update app_private.user_secrets s
    set totp_secret = s.totp_pending_secret, totp_pending_secret = null, totp_enabled_at = now(), totp_last_step = enable_two_factor.step
    where s.user_id = enable_two_factor.user_id and s.totp_pending_secret is not null;
  if not found then
    return false;
  end if;
  delete from app_private.recovery_codes c where c.user_id = enable_two_factor.user_id;
  insert into app_private.recovery_codes (user_id, code_hash) select enable_two_factor.user_id, h from unnest(enable_two_factor.recovery_code_hashes) h;
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = enable_two_factor.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'two_factor_enabled', 'to', v_email, 'tenantId', v_tenant));
  return true;
end;
$$;

create or replace function app_private.disable_two_factor(user_id uuid) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
  v_tenant uuid;
begin
  update app_private.user_secrets s set totp_secret = null, totp_pending_secret = null, totp_enabled_at = null, totp_last_step = null
    where s.user_id = disable_two_factor.user_id;
  delete from app_private.recovery_codes c where c.user_id = disable_two_factor.user_id;
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = disable_two_factor.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'two_factor_disabled', 'to', v_email, 'tenantId', v_tenant));
end;
$$;

create or replace function app_private.send_event_reminder(participant_id uuid) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_user app_public.users;
  v_participant app_public.event_participants;
begin
  update app_public.event_participants p set reminder_queued_at = now()
    where p.id = send_event_reminder.participant_id and p.reminder_queued_at is null and p.status = 'PARTICIPATING'
    returning * into v_participant;
  if v_participant.id is null then
    return false;
  end if;
  select * into v_event from app_public.events e where e.id = v_participant.event_id;
  select * into v_user from app_public.users u where u.id = v_participant.user_id;
  if v_event.rejected_at is not null or v_user.deleted_at is not null then
    return false;
  end if;
  insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, cta_url, cta_label, subject_id)
    values (v_event.tenant_id, v_user.id, 'event_reminder', 'Reminder: ' || v_event.name,
            v_event.name || ' starts at ' || to_char(v_event.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
              || coalesce(' at ' || v_event.location, '') || '.',
            '/events/' || v_event.id, 'Open event', v_event.id)
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing;
  if not found then
    return false;
  end if;
  if app_private.events_email_enabled(v_event.tenant_id) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'event_reminder', 'to', v_user.email, 'tenantId', v_event.tenant_id,
      'data', json_build_object('name', v_event.name, 'startsAt', v_event.starts_at, 'location', v_event.location)));
  end if;
  return true;
end;
$$;

create or replace function app_private.notify_event_cancelled(event_id uuid, after_user_id uuid, batch_size integer) returns uuid
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_last uuid;
  v_recipients text[];
  v_participants uuid[];
begin
  select * into v_event from app_public.events e where e.id = notify_event_cancelled.event_id;
  with batch as (
    select p.id as participant_id, u.id as user_id, u.email
    from app_public.event_participants p join app_public.users u on u.id = p.user_id
    where p.event_id = v_event.id and p.status = 'PARTICIPATING' and u.deleted_at is null
      and (notify_event_cancelled.after_user_id is null or u.id > notify_event_cancelled.after_user_id)
    order by u.id
    limit notify_event_cancelled.batch_size
  ), notified as (
    -- A retried batch finds its notifications already there and e-mails nobody twice.
    insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, subject_id)
    select v_event.tenant_id, b.user_id, 'event_cancelled', 'Cancelled: ' || v_event.name,
           v_event.name || ' has been cancelled' || coalesce(': ' || v_event.rejection_reason, '.'), v_event.id
    from batch b
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing
    returning recipient_id
  )
  select max(b.user_id::text)::uuid,
         array_agg(b.email order by b.user_id) filter (where b.user_id in (select recipient_id from notified)),
         array_agg(b.participant_id)
    into v_last, v_recipients, v_participants
  from batch b;
  if v_last is null then
    return null;
  end if;
  perform app_private.remove_job('event_reminder:' || participant_id) from unnest(v_participants) as participant_id;
  if app_private.events_email_enabled(v_event.tenant_id) and cardinality(v_recipients) > 0 then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'event_cancelled', 'to', v_recipients, 'tenantId', v_event.tenant_id,
      'data', json_build_object('name', v_event.name, 'reason', v_event.rejection_reason)),
      job_key => 'event_cancelled_email:' || v_event.id || ':' || v_last);
  end if;
  return v_last;
end;
$$;
