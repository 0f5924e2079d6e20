--! Previous: sha1:bd89f74aa85ca36ca10f99c8ff323e415f3f3790
--! Hash: sha1:3ff1fd0b3c9c96cec4c488832b81c2f8d4175848
--! Message: identity: RBAC, sessions with rotating refresh tokens, registrations, password resets, TOTP, rate limits

-- Idempotent while in development: drop what this migration creates, then create it.
drop function if exists app_public.create_user(citext, citext, text, text[]) cascade;
drop function if exists app_public.delete_user(uuid) cascade;
drop function if exists app_public.my_sessions() cascade;
drop function if exists app_public.current_session() cascade;
drop function if exists app_public.revoke_session(uuid) cascade;
drop function if exists app_public."current_user"() cascade;
drop function if exists app_public.current_user_has_permission(text) cascade;
drop type if exists app_public.session_info cascade;
drop function if exists app_private.ensure_tenant_identity cascade;
drop function if exists app_private.create_session cascade;
drop function if exists app_private.rotate_refresh_token cascade;
drop function if exists app_private.revoke_sessions cascade;
drop function if exists app_private.issue_registration cascade;
drop function if exists app_private.confirm_registration cascade;
drop function if exists app_private.login_candidate cascade;
drop function if exists app_private.set_password cascade;
drop function if exists app_private.issue_password_reset cascade;
drop function if exists app_private.reset_password cascade;
drop function if exists app_private.consume_totp_step cascade;
drop function if exists app_private.consume_recovery_code cascade;
drop function if exists app_private.enable_two_factor cascade;
drop function if exists app_private.disable_two_factor cascade;
drop function if exists app_private.cleanup_expired cascade;
drop function if exists app_private.scrub_user cascade;
drop function if exists app_private.rate_limit_retry_after cascade;
drop function if exists app_private.rate_limit_hit cascade;
drop function if exists app_hidden.session_is_live cascade;
drop table if exists app_public.user_roles, app_public.role_permissions, app_public.roles, app_public.permissions cascade;
drop table if exists app_private.rate_limits, app_private.recovery_codes, app_private.two_factor_challenges,
  app_private.password_resets, app_private.registrations, app_private.refresh_tokens, app_private.sessions,
  app_private.user_secrets cascade;

--------------------------------------------------------------------------------------------------
-- Users, completed: system users and soft delete.

alter table app_public.users add column if not exists is_system boolean not null default false;
alter table app_public.users add column if not exists deleted_at timestamptz;
comment on column app_public.users.is_system is 'The tenant''s system user, used for automated actions; cannot sign in.';
comment on column app_public.users.deleted_at is 'Soft delete: the user cannot sign in and their personal data is scrubbed.';

-- Secrets live apart from the exposed row (graphile/starter's users / user_secrets pair).
create table app_private.user_secrets (
  user_id uuid primary key references app_public.users on delete cascade,
  password_hash text,
  password_changed_at timestamptz,
  -- TOTP secrets are AES-GCM encrypted by the server (key derived from TOTP_ENCODE_SECRET).
  totp_pending_secret text,
  totp_secret text,
  totp_enabled_at timestamptz,
  -- The last accepted TOTP time step: a code is accepted once.
  totp_last_step bigint
);
comment on table app_private.user_secrets is 'Password hash and TOTP state of a user; never exposed.';

--------------------------------------------------------------------------------------------------
-- RBAC: built-in roles per tenant, permissions as strings.

create table app_public.permissions (
  name text primary key check (name ~ '^[a-z]+\.[a-z]+$'),
  description text not null
);
alter table app_public.permissions enable row level security;
create policy select_all on app_public.permissions for select using (true);
grant select on app_public.permissions to :DATABASE_VISITOR;
comment on table app_public.permissions is E'@behavior -insert -update -delete\nWhat a role may do.';
insert into app_public.permissions (name, description) values
  ('users.manage', 'Create, change and delete users and their roles.'),
  ('modules.manage', 'Switch the tenant''s modules on and off.'),
  ('events.manage', 'Create, edit and cancel events; manage participants.'),
  ('catalog.manage', 'Manage categories and products.'),
  ('orders.read', 'Read orders.'),
  ('broadcasts.manage', 'Create and schedule broadcasts.'),
  ('builds.request', 'Request builds and manage releases.'),
  ('payments.read', 'Read payments.');

create table app_public.roles (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  name text not null check (name ~ '^[a-z][a-z0-9_]{1,39}$'),
  is_builtin boolean not null default false,
  created_at timestamptz not null default now(),
  unique (tenant_id, name)
);
alter table app_public.roles enable row level security;
create policy select_own_tenant on app_public.roles for select using (tenant_id = (select app_public.current_tenant_id()));
grant select on app_public.roles to :DATABASE_VISITOR;
comment on table app_public.roles is E'@behavior -insert -update -delete\nA named set of permissions within a tenant. Built-in: owner, admin, manager, member.';

create table app_public.role_permissions (
  role_id uuid not null references app_public.roles on delete cascade,
  permission text not null references app_public.permissions on update cascade,
  primary key (role_id, permission)
);
create index role_permissions_permission_idx on app_public.role_permissions (permission);
alter table app_public.role_permissions enable row level security;
create policy select_own_tenant on app_public.role_permissions for select
  using (role_id in (select id from app_public.roles where tenant_id = (select app_public.current_tenant_id())));
grant select on app_public.role_permissions to :DATABASE_VISITOR;
comment on table app_public.role_permissions is E'@behavior -insert -update -delete\nThe permissions each role grants.';

create table app_public.user_roles (
  user_id uuid not null references app_public.users on delete cascade,
  role_id uuid not null references app_public.roles on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, role_id)
);
create index user_roles_role_idx on app_public.user_roles (role_id);
alter table app_public.user_roles enable row level security;
create policy select_own_tenant on app_public.user_roles for select
  using (role_id in (select id from app_public.roles where tenant_id = (select app_public.current_tenant_id())));
grant select on app_public.user_roles to :DATABASE_VISITOR;
comment on table app_public.user_roles is E'@behavior -insert -update -delete\nWhich roles a user holds.';

-- Built-in roles of a tenant and its system user; idempotent (run by the tenant_created consumer).
create function app_private.ensure_tenant_identity(tenant_id uuid) returns void
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
comment on function app_private.ensure_tenant_identity(uuid) is 'Creates a tenant''s built-in roles with their permissions and its system user, if missing.';

select app_private.ensure_tenant_identity(id) from app_public.tenants;

create function app_public.current_user_has_permission(permission text) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1
    from app_public.user_roles ur
    join app_public.roles r on r.id = ur.role_id
    join app_public.role_permissions rp on rp.role_id = ur.role_id
    where ur.user_id = app_public.current_user_id()
      and r.tenant_id = app_public.current_tenant_id()
      and rp.permission = current_user_has_permission.permission
  );
$$;
comment on function app_public.current_user_has_permission(text) is 'True when the signed-in user holds a role that grants the permission in the current tenant.';

--------------------------------------------------------------------------------------------------
-- Sessions. The claims helpers trust a token's session only while its row is live, so logout and
-- password changes take effect on the next request without any token blacklist.

create table app_private.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app_public.users on delete cascade,
  tenant_id uuid not null references app_public.tenants on delete cascade,
  created_at timestamptz not null default now(),
  last_refreshed_at timestamptz,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text,
  user_agent text,
  ip inet
);
create index sessions_user_idx on app_private.sessions (user_id);
create index sessions_tenant_idx on app_private.sessions (tenant_id);
create index sessions_expires_idx on app_private.sessions (expires_at);
comment on table app_private.sessions is 'A signed-in device. Revoked by setting revoked_at; never deleted before it has long expired.';

create table app_private.refresh_tokens (
  id bigint generated always as identity primary key,
  session_id uuid not null references app_private.sessions on delete cascade,
  token_hash bytea not null unique,
  parent_id bigint references app_private.refresh_tokens on delete cascade,
  created_at timestamptz not null default now(),
  rotated_at timestamptz
);
create index refresh_tokens_session_idx on app_private.refresh_tokens (session_id);
create index refresh_tokens_parent_idx on app_private.refresh_tokens (parent_id);
comment on table app_private.refresh_tokens is 'SHA-256 hashes of opaque refresh tokens; each rotation adds a child and marks the parent rotated.';

create or replace function app_public.current_session_id() returns uuid
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.id from app_private.sessions s
  where s.id = nullif(pg_catalog.current_setting('jwt.claims.session_id', true), '')::uuid
    and s.revoked_at is null and s.expires_at > now();
$$;
comment on function app_public.current_session_id() is 'The session of the request, or null when anonymous or when the session is revoked or expired.';

create or replace function app_public.current_user_id() returns uuid
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.user_id from app_private.sessions s where s.id = app_public.current_session_id();
$$;
comment on function app_public.current_user_id() is 'The signed-in user, or null for anonymous requests and dead sessions.';

create or replace function app_public.current_tenant_id() returns uuid
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.tenant_id from app_private.sessions s where s.id = app_public.current_session_id();
$$;
comment on function app_public.current_tenant_id() is 'The tenant of the signed-in user, or null for anonymous requests and dead sessions.';

-- The API checks this on every authenticated request, before any GraphQL or REST work.
create function app_hidden.session_is_live(session_id uuid) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_private.sessions s join app_public.users u on u.id = s.user_id
    where s.id = session_is_live.session_id and s.revoked_at is null and s.expires_at > now() and u.deleted_at is null
  );
$$;
comment on function app_hidden.session_is_live(uuid) is 'True while the session is neither revoked nor expired and its user is not deleted.';
grant usage on schema app_hidden to :DATABASE_AUTHENTICATOR;
grant execute on function app_hidden.session_is_live(uuid) to :DATABASE_AUTHENTICATOR;

create type app_public.session_info as (
  id uuid,
  created_at timestamptz,
  last_refreshed_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  user_agent text,
  ip text,
  is_current boolean
);
comment on type app_public.session_info is 'A session of the signed-in user, without any token.';

create function app_public.my_sessions() returns setof app_public.session_info
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.id, s.created_at, s.last_refreshed_at, s.expires_at, s.revoked_at, s.user_agent, host(s.ip),
         s.id = app_public.current_session_id()
  from app_private.sessions s
  where s.user_id = app_public.current_user_id()
  order by s.created_at desc;
$$;
comment on function app_public.my_sessions() is 'The signed-in user''s sessions, newest first.';

create function app_public.current_session() returns app_public.session_info
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.id, s.created_at, s.last_refreshed_at, s.expires_at, s.revoked_at, s.user_agent, host(s.ip), true
  from app_private.sessions s where s.id = app_public.current_session_id();
$$;
comment on function app_public.current_session() is 'The session this request was made with.';

create function app_public.revoke_session(session_id uuid) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to revoke sessions' using errcode = 'TAUTH';
  end if;
  update app_private.sessions s set revoked_at = now(), revoked_reason = 'revoked_by_user'
    where s.id = revoke_session.session_id and s.user_id = app_public.current_user_id() and s.revoked_at is null;
  if not found then
    raise exception 'No such live session' using errcode = 'TNFND';
  end if;
  return true;
end;
$$;
comment on function app_public.revoke_session(uuid) is E'@resultFieldName revoked\nSigns one of your sessions out.';

create function app_public."current_user"() returns app_public.users
  language sql stable
as $$
  select * from app_public.users where id = app_public.current_user_id();
$$;
comment on function app_public."current_user"() is 'The signed-in user.';

--------------------------------------------------------------------------------------------------
-- Users and modules under RBAC.

drop policy if exists select_same_tenant on app_public.users;
create policy select_same_tenant on app_public.users for select
  using (tenant_id = (select app_public.current_tenant_id()) and deleted_at is null);

drop policy if exists insert_as_admin on app_public.tenant_modules;
drop policy if exists update_as_admin on app_public.tenant_modules;
create policy insert_as_manager on app_public.tenant_modules for insert
  with check (tenant_id = (select app_public.current_tenant_id()) and (select app_public.current_user_has_permission('modules.manage')));
create policy update_as_manager on app_public.tenant_modules for update
  using (tenant_id = (select app_public.current_tenant_id()) and (select app_public.current_user_has_permission('modules.manage')));

create or replace function app_public.set_tenant_module(module text, enabled boolean) returns app_public.tenant_modules
  language plpgsql volatile
as $$
declare
  v_row app_public.tenant_modules;
begin
  if app_public.current_tenant_id() is null then
    raise exception 'Sign in to change modules' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('modules.manage') then
    raise exception 'Changing modules needs the modules.manage permission' using errcode = 'TFORB';
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
drop function if exists app_hidden.current_user_is_tenant_admin();

create function app_public.create_user(email citext, username citext, full_name text, roles text[] default array['member']) returns app_public.users
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_found int;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
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
  E'@resultFieldName user\nCreates a user of the current tenant with the given roles (needs users.manage). The user sets a password through forgotPassword.';

create function app_public.delete_user(user_id uuid) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Deleting users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  update app_public.users u set deleted_at = now()
    where u.id = delete_user.user_id and u.tenant_id = app_public.current_tenant_id() and u.deleted_at is null and not u.is_system;
  if not found then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  update app_private.sessions s set revoked_at = now(), revoked_reason = 'user_deleted'
    where s.user_id = delete_user.user_id and s.revoked_at is null;
  perform app_private.enqueue_job('scrub_user', json_build_object('userId', delete_user.user_id), job_key => 'scrub_user:' || delete_user.user_id);
  return true;
end;
$$;
comment on function app_public.delete_user(uuid) is E'@resultFieldName deleted\nSoft-deletes a user of the current tenant (needs users.manage): revokes every session; a job scrubs personal data.';

--------------------------------------------------------------------------------------------------
-- Rate limits in PostgreSQL: fixed windows per key. Callers check before the guarded work and
-- count afterwards, in transactions that commit even when the answer is a refusal.

create table app_private.rate_limits (
  key text not null,
  window_start timestamptz not null,
  hits integer not null default 0,
  primary key (key, window_start)
);
comment on table app_private.rate_limits is 'Counters of fixed-window rate limits; old windows are deleted by the cleanup job.';

create function app_private.rate_limit_retry_after(key text, max_hits integer, window_length interval) returns integer
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case when coalesce(max(r.hits), 0) >= rate_limit_retry_after.max_hits
    then greatest(1, ceil(extract(epoch from (date_bin(rate_limit_retry_after.window_length, now(), timestamptz '2000-01-01') + rate_limit_retry_after.window_length - now())))::integer)
    else 0 end
  from app_private.rate_limits r
  where r.key = rate_limit_retry_after.key
    and r.window_start = date_bin(rate_limit_retry_after.window_length, now(), timestamptz '2000-01-01');
$$;
comment on function app_private.rate_limit_retry_after(text, integer, interval) is 'Seconds until the key may try again, or 0 when under the limit.';

create function app_private.rate_limit_hit(key text, window_length interval) returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  insert into app_private.rate_limits as r (key, window_start, hits)
    values (rate_limit_hit.key, date_bin(rate_limit_hit.window_length, now(), timestamptz '2000-01-01'), 1)
    on conflict on constraint rate_limits_pkey do update set hits = r.hits + 1
    returning hits;
$$;
comment on function app_private.rate_limit_hit(text, interval) is 'Counts one attempt for the key in the current window; returns the count.';

--------------------------------------------------------------------------------------------------
-- Registration with an e-mailed code: the user row exists only after confirmation.

create table app_private.registrations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  email citext not null,
  username citext not null,
  full_name text,
  password_hash text not null,
  token_hash bytea not null unique,
  code_hash bytea not null,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  locked_at timestamptz,
  confirmed_at timestamptz
);
create index registrations_tenant_email_idx on app_private.registrations (tenant_id, email);
create index registrations_expires_idx on app_private.registrations (expires_at);
comment on table app_private.registrations is 'Issued registrations awaiting their e-mailed code; token and code stored as SHA-256 hashes.';

create table app_private.password_resets (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app_public.users on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index password_resets_user_idx on app_private.password_resets (user_id);
create index password_resets_expires_idx on app_private.password_resets (expires_at);
comment on table app_private.password_resets is 'One-time password reset tokens (SHA-256 hashes).';

create table app_private.two_factor_challenges (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app_public.users on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index two_factor_challenges_user_idx on app_private.two_factor_challenges (user_id);
create index two_factor_challenges_expires_idx on app_private.two_factor_challenges (expires_at);
comment on table app_private.two_factor_challenges is 'The first step of a two-step login, completed by verifyTwoFactor.';

create table app_private.recovery_codes (
  id bigint generated always as identity primary key,
  user_id uuid not null references app_public.users on delete cascade,
  code_hash bytea not null,
  used_at timestamptz,
  unique (user_id, code_hash)
);
comment on table app_private.recovery_codes is 'Single-use 2FA recovery codes (SHA-256 hashes).';

--------------------------------------------------------------------------------------------------
-- State transitions of the auth service (src/auth/service.ts). They run as the owner; hashing,
-- token generation and TOTP happen in Node, so no secret in plain text reaches SQL except the
-- one-time codes that e-mails must carry (job payloads, deleted once sent).

-- A new session with its first refresh token.
create function app_private.create_session(user_id uuid, refresh_token_hash bytea, ttl interval, user_agent text, ip inet)
  returns uuid
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_session_id uuid;
begin
  insert into app_private.sessions (user_id, tenant_id, expires_at, user_agent, ip)
    select u.id, u.tenant_id, now() + create_session.ttl, left(create_session.user_agent, 300), create_session.ip
    from app_public.users u where u.id = create_session.user_id and u.deleted_at is null and not u.is_system
    returning id into v_session_id;
  if v_session_id is null then
    raise exception 'No such user' using errcode = 'TCRED';
  end if;
  insert into app_private.refresh_tokens (session_id, token_hash) values (v_session_id, create_session.refresh_token_hash);
  return v_session_id;
end;
$$;

-- Rotates a refresh token. Status: ok | invalid | reused. A token presented again after rotation
-- revokes the whole session (RFC 9700 §4.14.2), except the immediate parent of the live token
-- within grace_period: that is a client retrying a refresh whose answer it lost.
create function app_private.rotate_refresh_token(
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
     or exists (select 1 from app_public.users u where u.id = v_session.user_id and u.deleted_at is not null) then
    status := 'invalid';
    return;
  end if;
  if v_token.rotated_at is not null then
    select * into v_child from app_private.refresh_tokens t where t.parent_id = v_token.id;
    if v_token.rotated_at > now() - rotate_refresh_token.grace_period and v_child.rotated_at is null then
      -- A retry: the child was never used; replace it.
      update app_private.refresh_tokens t set rotated_at = now() where t.id = v_child.id;
      v_token := v_child;
    else
      update app_private.sessions s set revoked_at = now(), revoked_reason = 'refresh_token_reused' where s.id = v_session.id;
      status := 'reused';
      return;
    end if;
  else
    update app_private.refresh_tokens t set rotated_at = now() where t.id = v_token.id;
  end if;
  insert into app_private.refresh_tokens (session_id, token_hash, parent_id)
    values (v_session.id, rotate_refresh_token.new_token_hash, v_token.id);
  update app_private.sessions s set last_refreshed_at = now() where s.id = v_session.id;
  status := 'ok';
  session_id := v_session.id;
  user_id := v_session.user_id;
  tenant_id := v_session.tenant_id;
end;
$$;

create function app_private.revoke_sessions(user_id uuid, reason text, except_session_id uuid default null) returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with revoked as (
    update app_private.sessions s set revoked_at = now(), revoked_reason = revoke_sessions.reason
    where s.user_id = revoke_sessions.user_id and s.revoked_at is null
      and s.id is distinct from revoke_sessions.except_session_id
    returning 1
  )
  select count(*)::integer from revoked;
$$;
comment on function app_private.revoke_sessions(uuid, text, uuid) is 'Revokes a user''s live sessions, optionally sparing one.';

-- Registration. Status: issued | email_taken (nothing stored; the caller answers the same way and
-- the address gets a notice instead of a code) | username_taken.
create function app_private.issue_registration(
  tenant_id uuid, email citext, username citext, full_name text, password_hash text,
  token_hash bytea, code_hash bytea, code text, ttl interval
) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.email = issue_registration.email) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'registration_exists', 'to', issue_registration.email));
    return 'email_taken';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.username = issue_registration.username) then
    return 'username_taken';
  end if;
  insert into app_private.registrations (tenant_id, email, username, full_name, password_hash, token_hash, code_hash, expires_at)
    values (issue_registration.tenant_id, issue_registration.email, issue_registration.username, issue_registration.full_name,
            issue_registration.password_hash, issue_registration.token_hash, issue_registration.code_hash, now() + issue_registration.ttl);
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'registration_code', 'to', issue_registration.email,
    'data', json_build_object('code', issue_registration.code, 'minutes', extract(epoch from issue_registration.ttl)::integer / 60)));
  return 'issued';
end;
$$;

-- Confirmation. Status: confirmed | invalid | wrong_code | locked | username_taken | email_taken.
-- Attempts are counted under a row lock, so parallel guesses cannot exceed max_attempts.
create function app_private.confirm_registration(
  token_hash bytea, code_hash bytea, max_attempts integer,
  out status text, out user_id uuid
)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_reg app_private.registrations;
  v_member_role uuid;
begin
  select * into v_reg from app_private.registrations r where r.token_hash = confirm_registration.token_hash for update;
  if not found or v_reg.confirmed_at is not null or v_reg.expires_at <= now() then
    status := 'invalid';
    return;
  end if;
  if v_reg.locked_at is not null then
    status := 'locked';
    return;
  end if;
  if v_reg.code_hash <> confirm_registration.code_hash then
    update app_private.registrations r
      set attempts = r.attempts + 1,
          locked_at = case when r.attempts + 1 >= confirm_registration.max_attempts then now() end
      where r.id = v_reg.id;
    status := 'wrong_code';
    return;
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = v_reg.tenant_id and u.email = v_reg.email) then
    status := 'email_taken';
    return;
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = v_reg.tenant_id and u.username = v_reg.username) then
    status := 'username_taken';
    return;
  end if;
  update app_private.registrations r set confirmed_at = now() where r.id = v_reg.id;
  insert into app_public.users (tenant_id, email, username, full_name)
    values (v_reg.tenant_id, v_reg.email, v_reg.username, v_reg.full_name) returning id into user_id;
  insert into app_private.user_secrets (user_id, password_hash, password_changed_at) values (confirm_registration.user_id, v_reg.password_hash, now());
  select r.id into v_member_role from app_public.roles r where r.tenant_id = v_reg.tenant_id and r.name = 'member';
  if v_member_role is not null then
    insert into app_public.user_roles (user_id, role_id) values (confirm_registration.user_id, v_member_role);
  end if;
  status := 'confirmed';
end;
$$;

-- The credentials of a user who may sign in, by e-mail or username within a tenant.
create function app_private.login_candidate(tenant_id uuid, identifier citext,
  out user_id uuid, out password_hash text, out totp_enabled boolean)
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select u.id, s.password_hash, s.totp_enabled_at is not null
  from app_public.users u left join app_private.user_secrets s on s.user_id = u.id
  where u.tenant_id = login_candidate.tenant_id and u.deleted_at is null and not u.is_system
    and (u.email = login_candidate.identifier or u.username = login_candidate.identifier)
  order by (u.email = login_candidate.identifier) desc
  limit 1;
$$;

create function app_private.set_password(user_id uuid, password_hash text, keep_session_id uuid, reason text) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
begin
  insert into app_private.user_secrets as s (user_id, password_hash, password_changed_at)
    values (set_password.user_id, set_password.password_hash, now())
    on conflict on constraint user_secrets_pkey do update set password_hash = excluded.password_hash, password_changed_at = now();
  perform app_private.revoke_sessions(set_password.user_id, set_password.reason, set_password.keep_session_id);
  select u.email into v_email from app_public.users u where u.id = set_password.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'password_changed', 'to', v_email));
end;
$$;

-- Forgotten password: stores the hashed token and e-mails it, only if the user exists.
create function app_private.issue_password_reset(tenant_id uuid, email citext, token_hash bytea, token text, ttl interval) returns void
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
    'template', 'password_reset', 'to', issue_password_reset.email,
    'data', json_build_object('token', issue_password_reset.token, 'minutes', extract(epoch from issue_password_reset.ttl)::integer / 60)));
end;
$$;

-- Uses a reset token: the new password replaces the old and every session is revoked.
create function app_private.reset_password(token_hash bytea, password_hash text) returns uuid
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user_id uuid;
begin
  update app_private.password_resets r set used_at = now()
    where r.token_hash = reset_password.token_hash and r.used_at is null and r.expires_at > now()
    returning r.user_id into v_user_id;
  if v_user_id is null then
    return null;
  end if;
  perform app_private.set_password(v_user_id, reset_password.password_hash, null, 'password_reset');
  return v_user_id;
end;
$$;

-- Accepts a TOTP time step once: false when this or a later step was already used.
create function app_private.consume_totp_step(user_id uuid, step bigint) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with used as (
    update app_private.user_secrets s set totp_last_step = consume_totp_step.step
    where s.user_id = consume_totp_step.user_id and (s.totp_last_step is null or s.totp_last_step < consume_totp_step.step)
    returning 1
  )
  select exists (select 1 from used);
$$;

create function app_private.consume_recovery_code(user_id uuid, code_hash bytea) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with used as (
    update app_private.recovery_codes c set used_at = now()
    where c.user_id = consume_recovery_code.user_id and c.code_hash = consume_recovery_code.code_hash and c.used_at is null
    returning 1
  )
  select exists (select 1 from used);
$$;

create function app_private.enable_two_factor(user_id uuid, step bigint, recovery_code_hashes bytea[]) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
begin
  update app_private.user_secrets s
    set totp_secret = s.totp_pending_secret, totp_pending_secret = null, totp_enabled_at = now(), totp_last_step = enable_two_factor.step
    where s.user_id = enable_two_factor.user_id and s.totp_pending_secret is not null;
  if not found then
    return false;
  end if;
  delete from app_private.recovery_codes c where c.user_id = enable_two_factor.user_id;
  insert into app_private.recovery_codes (user_id, code_hash) select enable_two_factor.user_id, h from unnest(enable_two_factor.recovery_code_hashes) h;
  select u.email into v_email from app_public.users u where u.id = enable_two_factor.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'two_factor_enabled', 'to', v_email));
  return true;
end;
$$;

create function app_private.disable_two_factor(user_id uuid) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
begin
  update app_private.user_secrets s set totp_secret = null, totp_pending_secret = null, totp_enabled_at = null, totp_last_step = null
    where s.user_id = disable_two_factor.user_id;
  delete from app_private.recovery_codes c where c.user_id = disable_two_factor.user_id;
  select u.email into v_email from app_public.users u where u.id = disable_two_factor.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'two_factor_disabled', 'to', v_email));
end;
$$;

-- Housekeeping: rows long past their use (cron `cleanup` and `npm run task -- cleanup sessions`).
create function app_private.cleanup_expired(retention interval) returns json
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_sessions int; v_registrations int; v_resets int; v_challenges int; v_limits int;
begin
  delete from app_private.sessions s where s.expires_at < now() - cleanup_expired.retention
    or s.revoked_at < now() - cleanup_expired.retention;
  get diagnostics v_sessions = row_count;
  delete from app_private.registrations r where r.expires_at < now() - cleanup_expired.retention;
  get diagnostics v_registrations = row_count;
  delete from app_private.password_resets r where r.expires_at < now() - cleanup_expired.retention;
  get diagnostics v_resets = row_count;
  delete from app_private.two_factor_challenges c where c.expires_at < now() - cleanup_expired.retention;
  get diagnostics v_challenges = row_count;
  delete from app_private.rate_limits l where l.window_start < now() - interval '1 day';
  get diagnostics v_limits = row_count;
  return json_build_object('sessions', v_sessions, 'registrations', v_registrations, 'passwordResets', v_resets,
                           'twoFactorChallenges', v_challenges, 'rateLimitWindows', v_limits);
end;
$$;
comment on function app_private.cleanup_expired(interval) is 'Deletes sessions, registrations, reset tokens and 2FA challenges expired (or revoked) for longer than the retention.';

create function app_private.scrub_user(user_id uuid) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  update app_public.users u
    set email = 'deleted-' || u.id || '@deleted.invalid', username = 'deleted-' || left(u.id::text, 8), full_name = null
    where u.id = scrub_user.user_id and u.deleted_at is not null;
  delete from app_private.user_secrets s where s.user_id = scrub_user.user_id;
  delete from app_private.recovery_codes c where c.user_id = scrub_user.user_id;
$$;
comment on function app_private.scrub_user(uuid) is 'Removes a soft-deleted user''s personal data and secrets.';
