--! Previous: -
--! Hash: sha1:bd89f74aa85ca36ca10f99c8ff323e415f3f3790
--! Message: foundation: schemas, roles, tenancy, users, claims helpers, realtime and outbox plumbing

-- Every statement here must be safe to run twice: graphile-migrate re-runs current.sql on each
-- change while it is being developed. Dropping our schemas first is the simplest way to get there.
drop schema if exists app_public cascade;
drop schema if exists app_hidden cascade;
drop schema if exists app_private cascade;

-- Nothing is granted to PUBLIC: every privilege below is given to a named role.
alter default privileges revoke all on sequences from public;
alter default privileges revoke all on functions from public;
revoke all on schema public from public;
grant usage on schema public to :DATABASE_OWNER, :DATABASE_VISITOR;

create extension if not exists citext with schema public;
create extension if not exists pgcrypto with schema public;

-- app_public: what GraphQL exposes. app_hidden: usable by requests, not exposed.
-- app_private: secrets and security-definer internals, never granted to the visitor.
create schema app_public;
create schema app_hidden;
create schema app_private;
comment on schema app_public is 'Tables and functions exposed through GraphQL; every table has row-level security.';
comment on schema app_hidden is 'Usable by requests but not exposed through GraphQL.';
comment on schema app_private is 'Secrets and security-definer internals; never granted to request roles.';

grant usage on schema app_public, app_hidden to :DATABASE_VISITOR;
alter default privileges in schema app_public, app_hidden grant usage, select on sequences to :DATABASE_VISITOR;
alter default privileges in schema app_public, app_hidden grant execute on functions to :DATABASE_VISITOR;

--------------------------------------------------------------------------------------------------
-- Request claims. The server verifies the JWT and sets these transaction-local settings; the
-- helpers are what policies and functions read. (Identity will additionally require the session
-- row to be live before a claim is trusted.)

create function app_public.current_tenant_id() returns uuid
  language sql stable parallel safe
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.tenant_id', true), '')::uuid;
$$;
comment on function app_public.current_tenant_id() is 'The tenant of the signed-in user, or null for anonymous requests.';

create function app_public.current_user_id() returns uuid
  language sql stable parallel safe
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.user_id', true), '')::uuid;
$$;
comment on function app_public.current_user_id() is 'The signed-in user, or null for anonymous requests.';

create function app_public.current_session_id() returns uuid
  language sql stable parallel safe
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.session_id', true), '')::uuid;
$$;
comment on function app_public.current_session_id() is 'The session the request was made with, or null for anonymous requests.';

create function app_hidden.current_user_is_tenant_admin() returns boolean
  language sql stable parallel safe
as $$
  select app_public.current_user_id() is not null
     and coalesce(pg_catalog.current_setting('jwt.claims.role', true), '') in ('owner', 'admin');
$$;
comment on function app_hidden.current_user_is_tenant_admin() is 'True when the signed-in user holds the owner or admin role of the current tenant.';

--------------------------------------------------------------------------------------------------
-- Shared trigger functions.

create function app_private.tg__timestamps() returns trigger
  language plpgsql volatile
as $$
begin
  new.created_at := case when tg_op = 'INSERT' then now() else old.created_at end;
  new.updated_at := case when tg_op = 'UPDATE' and old.updated_at >= now() then old.updated_at + interval '1 millisecond' else now() end;
  return new;
end;
$$;
comment on function app_private.tg__timestamps() is 'Keeps created_at fixed and updated_at moving forward.';

create function app_private.tg__refuse_change() returns trigger
  language plpgsql volatile
as $$
begin
  raise exception '% is append-only: % is refused', tg_table_name, lower(tg_op) using errcode = 'TFORB';
end;
$$;
comment on function app_private.tg__refuse_change() is 'Makes a table append-only: UPDATE, DELETE and TRUNCATE raise.';

--------------------------------------------------------------------------------------------------
-- Tenancy.

create table app_public.tenants (
  id uuid primary key default gen_random_uuid(),
  slug citext not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text not null check (length(name) between 1 and 200),
  status text not null default 'active' check (status in ('active', 'suspended')),
  created_at timestamptz not null default now()
);
alter table app_public.tenants enable row level security;
create policy select_own on app_public.tenants for select using (id = (select app_public.current_tenant_id()));
grant select on app_public.tenants to :DATABASE_VISITOR;
comment on table app_public.tenants is E'@behavior -insert -update -delete\nAn organisation using Tessera; all of its data is isolated from other tenants.';
comment on column app_public.tenants.slug is 'Unique, URL-safe name of the tenant, used at login.';
comment on column app_public.tenants.status is 'active or suspended.';

create table app_public.modules (
  name text primary key,
  description text not null
);
alter table app_public.modules enable row level security;
create policy select_all on app_public.modules for select using (true);
grant select on app_public.modules to :DATABASE_VISITOR;
comment on table app_public.modules is E'@behavior -insert -update -delete\nThe modules a tenant can switch on or off.';
insert into app_public.modules (name, description) values
  ('events', 'Events, participants, reminders and notifications.'),
  ('commerce', 'Bot commerce: customers, catalog, orders, payments, broadcasts.'),
  ('messaging', 'Chats and messages.'),
  ('builds', 'Builds and releases.');

create table app_public.tenant_modules (
  tenant_id uuid not null references app_public.tenants on delete cascade,
  module text not null references app_public.modules on update cascade,
  enabled boolean not null default true,
  settings jsonb not null default '{}' check (jsonb_typeof(settings) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, module)
);
create index tenant_modules_module_idx on app_public.tenant_modules (module);
alter table app_public.tenant_modules enable row level security;
create policy select_own on app_public.tenant_modules for select
  using (tenant_id = (select app_public.current_tenant_id()));
create policy insert_as_admin on app_public.tenant_modules for insert
  with check (tenant_id = (select app_public.current_tenant_id()) and (select app_hidden.current_user_is_tenant_admin()));
create policy update_as_admin on app_public.tenant_modules for update
  using (tenant_id = (select app_public.current_tenant_id()) and (select app_hidden.current_user_is_tenant_admin()));
grant select on app_public.tenant_modules to :DATABASE_VISITOR;
grant insert (tenant_id, module, enabled), update (enabled, settings) on app_public.tenant_modules to :DATABASE_VISITOR;
create trigger _100_timestamps before insert or update on app_public.tenant_modules
  for each row execute function app_private.tg__timestamps();
comment on table app_public.tenant_modules is E'@behavior -insert -update -delete\nWhich modules a tenant uses; a disabled module''s data is invisible and its mutations are refused.';
comment on column app_public.tenant_modules.settings is 'Module-specific settings of this tenant.';

create function app_private.tg_tenant_modules__notify() returns trigger
  language plpgsql volatile
as $$
begin
  -- The topic carries the tenant, and subscribers may only listen to their own tenant's topic.
  perform pg_notify(
    'tenant:' || new.tenant_id::text || ':modules',
    json_build_object('event', lower(tg_op), 'module', new.module, 'enabled', new.enabled)::text
  );
  return null;
end;
$$;
comment on function app_private.tg_tenant_modules__notify() is 'Tells live subscribers of the tenant that one of its modules changed.';
create trigger _500_notify after insert or update on app_public.tenant_modules
  for each row execute function app_private.tg_tenant_modules__notify();

create function app_public.set_tenant_module(module text, enabled boolean) returns app_public.tenant_modules
  language plpgsql volatile
as $$
declare
  v_row app_public.tenant_modules;
begin
  if app_public.current_tenant_id() is null then
    raise exception 'Sign in to change modules' using errcode = 'TAUTH';
  end if;
  if not app_hidden.current_user_is_tenant_admin() then
    raise exception 'Only an owner or admin may change modules' using errcode = 'TFORB';
  end if;
  if not exists (select 1 from app_public.modules m where m.name = set_tenant_module.module) then
    raise exception 'Unknown module %', set_tenant_module.module using errcode = 'TNFND';
  end if;
  insert into app_public.tenant_modules as tm (tenant_id, module, enabled)
    values (app_public.current_tenant_id(), set_tenant_module.module, set_tenant_module.enabled)
    on conflict on constraint tenant_modules_pkey do update set enabled = excluded.enabled
    returning * into v_row;
  return v_row;
end;
$$;
comment on function app_public.set_tenant_module(text, boolean) is E'@resultFieldName tenantModule\nSwitches a module on or off for the current tenant (owner or admin only).';

--------------------------------------------------------------------------------------------------
-- Users (the identity module completes them: passwords, sessions, roles).

create table app_public.users (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  email citext not null check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  username citext not null check (username ~ '^[A-Za-z0-9_.-]{2,64}$'),
  full_name text check (length(full_name) <= 200),
  created_at timestamptz not null default now(),
  unique (tenant_id, email),
  unique (tenant_id, username)
);
alter table app_public.users enable row level security;
create policy select_same_tenant on app_public.users for select
  using (tenant_id = (select app_public.current_tenant_id()));
grant select on app_public.users to :DATABASE_VISITOR;
comment on table app_public.users is E'@behavior -insert -update -delete\nA person (or the system) acting within one tenant.';
comment on column app_public.users.email is 'E-mail address, unique within the tenant.';
comment on column app_public.users.username is 'Login name, unique within the tenant.';

create function app_public.current_tenant() returns app_public.tenants
  language sql stable
as $$
  select * from app_public.tenants where id = app_public.current_tenant_id();
$$;
comment on function app_public.current_tenant() is 'The tenant of the signed-in user.';

--------------------------------------------------------------------------------------------------
-- Outbox: business events are appended to an immutable log and delivered to consumers by a job
-- enqueued in the same transaction, so a rolled-back change publishes nothing.

create function app_private.enqueue_job(
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
    payload => enqueue_job.payload,
    queue_name => enqueue_job.queue_name,
    run_at => enqueue_job.run_at,
    max_attempts => enqueue_job.max_attempts,
    job_key => enqueue_job.job_key,
    priority => enqueue_job.priority
  );
end;
$$;
comment on function app_private.enqueue_job(text, json, timestamptz, text, integer, text, integer) is
  'Enqueues a graphile-worker job in the current transaction; triggers use it so request roles need no grants on the queue.';

create table app_private.domain_events (
  id bigint generated always as identity primary key,
  type text not null check (type ~ '^[a-z][a-z0-9_]*$'),
  -- No foreign key: the log outlives the rows it talks about.
  tenant_id uuid,
  aggregate_type text not null,
  aggregate_id text not null,
  payload jsonb not null default '{}',
  request_id text default nullif(pg_catalog.current_setting('tessera.request_id', true), ''),
  occurred_at timestamptz not null default now()
);
create index domain_events_tenant_idx on app_private.domain_events (tenant_id, occurred_at);
create trigger _100_append_only before update or delete on app_private.domain_events
  for each statement execute function app_private.tg__refuse_change();
create trigger _100_append_only_truncate before truncate on app_private.domain_events
  for each statement execute function app_private.tg__refuse_change();
comment on table app_private.domain_events is 'Append-only log of business events, for audit and read models.';

create table app_private.domain_event_deliveries (
  event_id bigint not null references app_private.domain_events,
  consumer text not null,
  delivered_at timestamptz not null default now(),
  primary key (event_id, consumer)
);
comment on table app_private.domain_event_deliveries is 'Which consumer has handled which event; makes redelivery harmless.';

create function app_private.publish_event(
  type text,
  tenant_id uuid,
  aggregate_type text,
  aggregate_id text,
  payload jsonb default '{}'
) returns bigint
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_id bigint;
begin
  insert into app_private.domain_events (type, tenant_id, aggregate_type, aggregate_id, payload)
    values (publish_event.type, publish_event.tenant_id, publish_event.aggregate_type, publish_event.aggregate_id, publish_event.payload)
    returning id into v_id;
  perform app_private.enqueue_job('domain_event', json_build_object('id', v_id));
  return v_id;
end;
$$;
comment on function app_private.publish_event(text, uuid, text, text, jsonb) is
  'Appends a domain event and enqueues its delivery to the registered consumers, in the caller''s transaction.';

create function app_private.tg_tenants__publish_created() returns trigger
  language plpgsql volatile
as $$
begin
  perform app_private.publish_event('tenant_created', new.id, 'tenant', new.id::text, jsonb_build_object('slug', new.slug));
  return null;
end;
$$;
create trigger _900_publish_created after insert on app_public.tenants
  for each row execute function app_private.tg_tenants__publish_created();

-- A cron job touches this row every minute: monitoring can tell that some worker is alive.
create table app_private.worker_heartbeat (
  id boolean primary key default true check (id),
  beat_at timestamptz not null
);
comment on table app_private.worker_heartbeat is 'Last time a worker ran the heartbeat cron job.';
