--! Previous: sha1:ede7df2ac32cfd0e2b9a473096ce9feb9c587921
--! Hash: sha1:d0cdfdd952db6b9062f7cb59364745c55e549fe0
--! Message: Modules: data-driven built-in grants and module catalogue, one access guard, composite tenant foreign keys, module tags on every object, auth state changes as functions, event notices written once

--! split: 010-platform.sql
--------------------------------------------------------------------------------------------------
-- 010-platform: what every module builds on.
--
-- One access guard for module functions and routes, app_private.assert_module_access: the caller
-- is signed in (UNAUTHENTICATED otherwise), the module is switched on for the caller's tenant and
-- the caller holds the permission, when one is named (FORBIDDEN otherwise). Two forms: (module,
-- permission) for the request's session, (user_id, tenant_id, module, permission) for code that
-- runs as the owner for a user its request verified (REST routes). Its two parts are functions of
-- their own, and the claims helpers tenant_module_enabled and current_user_has_permission use them.
--
-- The worker's housekeeping reads graphile-worker's public jobs view, not its private table.
--
-- Every object of our schemas carries its module in the first line of its comment,
-- `@module <name>` (platform, tenancy, identity, notifications, events, media, operations).
-- PostGraphile reads that line as a smart tag, so it never reaches a GraphQL description.
--
-- Policies are named <command>_<who>: who is `anyone`, `member` (signed-in member of the row's
-- tenant), `self` (rows about the signed-in user) or a permission with `_` for `.` (modules_manage),
-- joined by `_or_` (select_self_or_events_manage). Each module's section renames its own.

create or replace function app_private.tenant_module_enabled(tenant_id uuid, module text) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_public.tenant_modules tm
    where tm.tenant_id = tenant_module_enabled.tenant_id and tm.module = tenant_module_enabled.module and tm.enabled
  );
$$;
comment on function app_private.tenant_module_enabled(uuid, text) is
  E'@module platform\nTrue when the tenant has the module switched on.';

create or replace function app_private.user_has_permission(user_id uuid, tenant_id uuid, permission text)
  returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1
    from app_public.user_roles ur
    join app_public.roles r on r.id = ur.role_id
    join app_public.role_permissions rp on rp.role_id = ur.role_id
    where ur.user_id = user_has_permission.user_id
      and r.tenant_id = user_has_permission.tenant_id
      and rp.permission = user_has_permission.permission
  );
$$;
comment on function app_private.user_has_permission(uuid, uuid, text) is
  E'@module platform\nTrue when the user holds a role of the tenant that grants the permission.';

create or replace function app_public.tenant_module_enabled(module text) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.tenant_module_enabled(app_public.current_tenant_id(), tenant_module_enabled.module);
$$;
comment on function app_public.tenant_module_enabled(text) is
  E'@module platform\nTrue when the current tenant has the module switched on.';

create or replace function app_public.current_user_has_permission(permission text) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.user_has_permission(app_public.current_user_id(), app_public.current_tenant_id(),
                                         current_user_has_permission.permission);
$$;
comment on function app_public.current_user_has_permission(text) is
  E'@module platform\n'
  'True when the signed-in user holds a role that grants the permission in the current tenant.';

-- The guard. The checks run in this order, so an anonymous caller is always UNAUTHENTICATED.
create or replace function app_private.assert_module_access(
  user_id uuid, tenant_id uuid, module text, permission text default null
) returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if assert_module_access.user_id is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_private.tenant_module_enabled(assert_module_access.tenant_id, assert_module_access.module) then
    raise exception 'The % module is switched off for this tenant', assert_module_access.module
      using errcode = 'TFORB';
  end if;
  if assert_module_access.permission is not null and not app_private.user_has_permission(
       assert_module_access.user_id, assert_module_access.tenant_id, assert_module_access.permission) then
    raise exception 'This needs the % permission', assert_module_access.permission using errcode = 'TFORB';
  end if;
end;
$$;
comment on function app_private.assert_module_access(uuid, uuid, text, text) is
  E'@module platform\n'
  'The access guard for a given user of a given tenant (callers running as the owner for a user their '
  'request verified): UNAUTHENTICATED without a user; FORBIDDEN when the module is switched off for the '
  'tenant or the user lacks the permission (null: none needed).';

create or replace function app_private.assert_module_access(module text, permission text default null)
  returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access(app_public.current_user_id(), app_public.current_tenant_id(),
                                           assert_module_access.module, assert_module_access.permission);
end;
$$;
comment on function app_private.assert_module_access(text, text) is
  E'@module platform\n'
  'The access guard of module functions, for the signed-in user of the request: UNAUTHENTICATED when '
  'signed out; FORBIDDEN when the module is switched off for the tenant or the user lacks the permission '
  '(null: none needed).';

--------------------------------------------------------------------------------------------------
-- Worker housekeeping through graphile-worker's public jobs view (id, locked_by, locked_at).

create or replace function app_private.release_dead_workers(stale_after interval) returns integer
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
    from graphile_worker.jobs j
    where j.locked_by like 'pool-%' and j.locked_at < now() - release_dead_workers.stale_after
      and not exists (select 1 from app_private.worker_pools w where w.id = j.locked_by);
  if cardinality(v_dead) = 0 then
    return 0;
  end if;
  select count(*)::integer into v_jobs from graphile_worker.jobs j where j.locked_by = any(v_dead);
  perform graphile_worker.force_unlock_workers(v_dead);
  delete from app_private.worker_pools w where w.id = any(v_dead);
  return v_jobs;
end;
$$;
comment on function app_private.release_dead_workers(interval) is
  E'@module platform\n'
  'Releases the jobs (and named queues) of worker pools whose heartbeat is older than stale_after; '
  'returns how many jobs were released.';

create or replace function app_private.cleanup_email_deliveries() returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  -- A finished job's rows are never read again (job ids are not reused).
  with deleted as (
    delete from app_private.email_deliveries d
    where not exists (select 1 from graphile_worker.jobs j where j.id = d.job_id)
    returning 1
  )
  select count(*)::integer from deleted
$$;
comment on function app_private.cleanup_email_deliveries() is
  E'@module platform\nDeletes the delivery records of send_email jobs that no longer exist.';

--------------------------------------------------------------------------------------------------
-- The platform's other objects, with their module.

comment on table app_private.settings is
  E'@module platform\nConfiguration the server writes at start-up for triggers to read.';
comment on table app_private.domain_events is
  E'@module platform\nAppend-only log of business events, for audit and read models.';
comment on table app_private.domain_event_deliveries is
  E'@module platform\nWhich consumer has handled which event; makes redelivery harmless.';
comment on table app_private.worker_heartbeat is
  E'@module platform\nLast time a worker ran the heartbeat cron job.';
comment on table app_private.worker_pools is
  E'@module platform\n'
  'Live graphile-worker pools (id = jobs.locked_by) and their last heartbeat; a stale one is presumed dead '
  'and its jobs are released.';
comment on table app_private.email_deliveries is
  E'@module platform\n'
  'Messages of send_email jobs already accepted (or permanently refused) by the SMTP server, keyed by '
  'Message-ID; rows go when their job is gone.';

comment on function app_public.current_session_id() is
  E'@module platform\n'
  'The session of the request, or null when anonymous, when the session is revoked or expired, or when its '
  'tenant is suspended.';
comment on function app_public.current_user_id() is
  E'@module platform\nThe signed-in user, or null for anonymous requests and dead sessions.';
comment on function app_public.current_tenant_id() is
  E'@module platform\nThe tenant of the signed-in user, or null for anonymous requests and dead sessions.';
comment on function app_hidden.session_claims(uuid[]) is
  E'@module platform\n'
  'The user, tenant and current highest role of each given session that is live: not revoked, not expired, '
  'user not deleted, tenant active. The highest role is the best built-in one (owner > admin > manager > '
  'member), else the first custom one by name, else member. An array, so that the API re-checks every open '
  'WebSocket''s session in one statement.';
comment on function app_hidden.assert_search_text(text) is
  E'@module platform\n'
  'True for a search text of at most 256 characters; raises VALIDATION_FAILED otherwise.';

comment on function app_private.setting(text) is
  E'@module platform\nThe value of a runtime setting (app_private.settings), or null when it is not set.';
comment on function app_private.tg__timestamps() is
  E'@module platform\nKeeps created_at fixed and updated_at moving forward.';
comment on function app_private.tg__refuse_change() is
  E'@module platform\nMakes a table append-only: UPDATE, DELETE and TRUNCATE raise.';
comment on function app_private.enqueue_job(text, json, timestamptz, text, integer, text, integer) is
  E'@module platform\n'
  'Enqueues a graphile-worker job in the current transaction; triggers use it so request roles need no '
  'grants on the queue.';
comment on function app_private.enqueue_jobs(graphile_worker.job_spec[]) is
  E'@module platform\n'
  'Enqueues many jobs in one statement (one NOTIFY at commit instead of one per job); job keys replace '
  'pending jobs.';
comment on function app_private.remove_job(text) is
  E'@module platform\nCancels the pending job with this key, if any (a running job is left to finish).';
comment on function app_private.with_request_id(json) is
  E'@module platform\nAdds the current request id (if any) to a job payload object.';
comment on function app_private.stamp_job_payload(text, json) is
  E'@module platform\nAdds the request id and the job''s tenant (tenantId) to a job payload object.';
comment on function app_private.payload_tenant_id(json) is
  E'@module platform\nThe tenant a job payload names (its tenantId, when that is a UUID), or null.';
comment on function app_private.job_tenant_id(text, json) is
  E'@module platform\n'
  'The tenant a job being enqueued belongs to, in this order: the signed-in user''s tenant; the transaction '
  'setting tessera.tenant_id; the payload''s tenantId; the tenant of the row the payload names '
  '(domain_event: its event; userId, participantId, eventId). Null: a platform job.';
comment on function app_private.publish_event(text, uuid, text, text, jsonb) is
  E'@module platform\n'
  'Appends a domain event and enqueues its delivery to the registered consumers, in the caller''s '
  'transaction.';

-- A session counts only while its user is live (not soft-deleted), as app_hidden.session_claims
-- already requires: deleting a user revokes their sessions too, this is the second line.
create or replace function app_public.current_session_id() returns uuid
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.id from app_private.sessions s
  join app_public.tenants t on t.id = s.tenant_id
  join app_public.users u on u.id = s.user_id
  where s.id = nullif(pg_catalog.current_setting('jwt.claims.session_id', true), '')::uuid
    and s.revoked_at is null and s.expires_at > now() and t.status = 'active' and u.deleted_at is null;
$$;
comment on function app_public.current_session_id() is
  E'@module platform\n'
  'The session of the request, or null when anonymous, when the session is revoked or expired, when its '
  'user is deleted or when its tenant is suspended.';

--! split: 020-identity.sql
--------------------------------------------------------------------------------------------------
-- 020-identity: users, roles and permissions, sessions, registrations, passwords, 2FA, the audit
-- log and rate limits.
--
-- Built-in roles are data-driven: app_private.builtin_role_permissions lists what each built-in
-- role (owner, admin, manager, member) grants, and each module's section adds the rows of its own
-- permissions. ensure_tenant_identity gives a tenant's built-in roles exactly those rows, and a
-- trigger passes every added (or removed) row on to the built-in roles of every existing tenant.
--
-- Tenant consistency: a session's user belongs to the session's tenant (composite foreign key to
-- users (tenant_id, id)); a user holds roles of their own tenant only (trigger).
--
-- The auth service's writes are functions here: two-factor challenges, logout, the audit log,
-- the pending TOTP secret and the rate-limit counters; and ensure_account, for accounts made
-- outside the API (the bootstrap's owner, demo users).

--------------------------------------------------------------------------------------------------
-- Built-in role grants.

create table if not exists app_private.builtin_role_permissions (
  role_name text not null check (app_private.builtin_role_rank(role_name) is not null),
  permission text not null references app_public.permissions on update cascade on delete cascade,
  primary key (permission, role_name)
);
comment on table app_private.builtin_role_permissions is
  E'@module identity\n'
  'The permissions each built-in role of every tenant grants; each module adds the rows of its own '
  'permissions. A row added or removed here reaches the built-in roles of every tenant at once.';

create or replace function app_private.tg_builtin_role_permissions__propagate() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    delete from app_public.role_permissions rp
      using app_public.roles r
      where rp.role_id = r.id and r.is_builtin and r.name = old.role_name and rp.permission = old.permission;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into app_public.role_permissions (role_id, permission)
      select r.id, new.permission from app_public.roles r where r.is_builtin and r.name = new.role_name
      on conflict on constraint role_permissions_pkey do nothing;
  end if;
  return null;
end;
$$;
comment on function app_private.tg_builtin_role_permissions__propagate() is
  E'@module identity\n'
  'Gives (or takes away) a built-in role grant to (from) the built-in roles of that name of every tenant.';
drop trigger if exists _500_propagate on app_private.builtin_role_permissions;
create trigger _500_propagate after insert or update or delete on app_private.builtin_role_permissions
  for each row execute function app_private.tg_builtin_role_permissions__propagate();

create or replace function app_private.ensure_tenant_identity(tenant_id uuid) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_slug text;
begin
  insert into app_public.roles (tenant_id, name, is_builtin)
    select ensure_tenant_identity.tenant_id, r.name, true
    from unnest(array['owner', 'admin', 'manager', 'member']) as r(name)
    on conflict on constraint roles_tenant_id_name_key do nothing;
  insert into app_public.role_permissions (role_id, permission)
    select r.id, g.permission
    from app_public.roles r join app_private.builtin_role_permissions g on g.role_name = r.name
    where r.tenant_id = ensure_tenant_identity.tenant_id and r.is_builtin
    on conflict on constraint role_permissions_pkey do nothing;
  select slug into v_slug from app_public.tenants t where t.id = ensure_tenant_identity.tenant_id;
  insert into app_public.users (tenant_id, email, username, full_name, is_system)
    values (ensure_tenant_identity.tenant_id, 'system@' || v_slug || '.tessera.invalid', 'system', 'System', true)
    on conflict on constraint users_tenant_id_username_key do nothing;
end;
$$;
comment on function app_private.ensure_tenant_identity(uuid) is
  E'@module identity\n'
  'Creates a tenant''s built-in roles with the grants of app_private.builtin_role_permissions and its '
  'system user, if missing (run by the tenant_created consumer; idempotent).';

-- Identity's own permission.
insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'users.manage'), ('admin', 'users.manage')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- Tenant consistency. users (tenant_id, id) is the target of the composite foreign keys of rows
-- that name a user of their tenant (sessions here; events, participants, notifications, images).
-- A unique index rather than a constraint: PostGraphile would expose a constraint as a lookup.

create unique index if not exists users_tenant_id_id_key on app_public.users (tenant_id, id);

alter table app_private.sessions drop constraint if exists sessions_tenant_id_user_id_fkey;
alter table app_private.sessions add constraint sessions_tenant_id_user_id_fkey
  foreign key (tenant_id, user_id) references app_public.users (tenant_id, id) on delete cascade;
create index if not exists sessions_tenant_user_idx on app_private.sessions (tenant_id, user_id);
drop index if exists app_private.sessions_tenant_idx;

do $$
begin
  if exists (
    select 1 from app_public.user_roles ur
    join app_public.users u on u.id = ur.user_id join app_public.roles r on r.id = ur.role_id
    where r.tenant_id <> u.tenant_id
  ) then
    raise exception 'user_roles holds roles of another tenant than their user''s; fix them before this migration';
  end if;
end
$$;

create or replace function app_private.tg_user_roles__same_tenant() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if not exists (
    select 1 from app_public.users u join app_public.roles r on r.tenant_id = u.tenant_id
    where u.id = new.user_id and r.id = new.role_id
  ) then
    raise exception 'A user can hold roles of their own tenant only' using errcode = '23503';
  end if;
  return new;
end;
$$;
comment on function app_private.tg_user_roles__same_tenant() is
  E'@module identity\n'
  'Refuses a user role whose role belongs to another tenant than the user (foreign_key_violation).';
drop trigger if exists _100_same_tenant on app_public.user_roles;
create trigger _100_same_tenant before insert or update of user_id, role_id on app_public.user_roles
  for each row execute function app_private.tg_user_roles__same_tenant();

--------------------------------------------------------------------------------------------------
-- The auth service's state changes. They run as the owner (the service's pool); hashing, tokens
-- and TOTP stay in Node.

create or replace function app_private.issue_two_factor_challenge(user_id uuid, token_hash bytea, ttl interval)
  returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  insert into app_private.two_factor_challenges (user_id, token_hash, expires_at)
    values (issue_two_factor_challenge.user_id, issue_two_factor_challenge.token_hash,
            now() + issue_two_factor_challenge.ttl);
$$;
comment on function app_private.issue_two_factor_challenge(uuid, bytea, interval) is
  E'@module identity\n'
  'Stores the challenge of a two-step login (the SHA-256 of its token), valid for ttl.';

create or replace function app_private.two_factor_challenge_user(token_hash bytea) returns uuid
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select c.user_id from app_private.two_factor_challenges c
  where c.token_hash = two_factor_challenge_user.token_hash and c.used_at is null and c.expires_at > now();
$$;
comment on function app_private.two_factor_challenge_user(bytea) is
  E'@module identity\nThe user of an unused, unexpired two-factor challenge; null for any other token.';

create or replace function app_private.consume_two_factor_challenge(token_hash bytea) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with used as (
    update app_private.two_factor_challenges c set used_at = now()
    where c.token_hash = consume_two_factor_challenge.token_hash and c.used_at is null
    returning 1
  )
  select exists (select 1 from used);
$$;
comment on function app_private.consume_two_factor_challenge(bytea) is
  E'@module identity\nMarks a two-factor challenge used; false when it was already used (or is unknown).';

create or replace function app_private.logout_session(session_id uuid, refresh_token_hash bytea) returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with revoked as (
    update app_private.sessions s set revoked_at = now(), revoked_reason = 'logout'
    where s.revoked_at is null
      and (s.id = logout_session.session_id
           or s.id = (select t.session_id from app_private.refresh_tokens t
                      where t.token_hash = logout_session.refresh_token_hash))
    returning 1
  )
  select count(*)::integer from revoked;
$$;
comment on function app_private.logout_session(uuid, bytea) is
  E'@module identity\n'
  'Logout: revokes the session, or the session of the refresh token (its SHA-256), when still live; '
  'returns how many were revoked (0 or 1).';

create or replace function app_private.record_auth_event(
  type text, tenant_id uuid, user_id uuid, ip inet, user_agent text, request_id text, details jsonb default '{}'
) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  insert into app_private.auth_events (type, tenant_id, user_id, ip, user_agent, request_id, details)
    values (record_auth_event.type, record_auth_event.tenant_id, record_auth_event.user_id, record_auth_event.ip,
            left(record_auth_event.user_agent, 300), record_auth_event.request_id,
            coalesce(record_auth_event.details, '{}'));
$$;
comment on function app_private.record_auth_event(text, uuid, uuid, inet, text, text, jsonb) is
  E'@module identity\n'
  'Appends to the audit log (never secret material); the user agent is cut to 300 characters.';

create or replace function app_private.start_two_factor(user_id uuid, pending_secret text) returns boolean
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with stored as (
    insert into app_private.user_secrets as s (user_id, totp_pending_secret)
      values (start_two_factor.user_id, start_two_factor.pending_secret)
      on conflict on constraint user_secrets_pkey do update set totp_pending_secret = excluded.totp_pending_secret
        where s.totp_enabled_at is null
      returning 1
  )
  select exists (select 1 from stored);
$$;
comment on function app_private.start_two_factor(uuid, text) is
  E'@module identity\n'
  'Stores a new pending TOTP secret (sealed by the server) for enable_two_factor to turn on; false, and '
  'nothing stored, when two-factor authentication is already on.';

create or replace function app_private.take_rate_limit(
  key text, max_hits integer, window_seconds integer, at_time timestamptz default null,
  out hits integer, out window_start timestamptz, out retry_after integer
)
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  with w as (
    select date_bin(t.len, t.at, timestamptz '2000-01-01') as start, t.at, t.len
    from (select coalesce(take_rate_limit.at_time, now()) as at,
                 make_interval(secs => take_rate_limit.window_seconds) as len) t
  ), taken as (
    insert into app_private.rate_limits as r (key, window_start, hits)
      select take_rate_limit.key, w.start, 1 from w
      on conflict on constraint rate_limits_pkey do update set hits = r.hits + 1
        where r.hits < take_rate_limit.max_hits
      returning r.hits
  )
  select (select taken.hits from taken), w.start,
         greatest(1, ceil(extract(epoch from (w.start + w.len - w.at))))::integer
  from w;
$$;
comment on function app_private.take_rate_limit(text, integer, integer, timestamptz) is
  E'@module identity\n'
  'Takes one unit of the key''s fixed window (aligned to 2000-01-01; at_time null: now) unless max_hits '
  'are taken: hits is the count after taking, null when the window was full; retry_after the seconds left '
  'in the window. The row lock serialises concurrent takers.';

create or replace function app_private.give_back_rate_limit(key text, window_start timestamptz) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  update app_private.rate_limits r set hits = r.hits - 1
  where r.key = give_back_rate_limit.key and r.window_start = give_back_rate_limit.window_start and r.hits > 0;
$$;
comment on function app_private.give_back_rate_limit(text, timestamptz) is
  E'@module identity\nGives back a unit taken by take_rate_limit from the window it was taken from.';

create or replace function app_private.ensure_account(
  tenant_id uuid, email citext, username citext, full_name text, password_hash text, role_name text
) returns uuid
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  insert into app_public.users (tenant_id, email, username, full_name)
    values (ensure_account.tenant_id, ensure_account.email, ensure_account.username, ensure_account.full_name)
    on conflict on constraint users_tenant_id_email_key do update set email = excluded.email;
  insert into app_private.user_secrets (user_id, password_hash, password_changed_at)
    select u.id, ensure_account.password_hash, now() from app_public.users u
    where u.tenant_id = ensure_account.tenant_id and u.email = ensure_account.email
    on conflict on constraint user_secrets_pkey do nothing;
  insert into app_public.user_roles (user_id, role_id)
    select u.id, r.id from app_public.users u join app_public.roles r on r.tenant_id = u.tenant_id
    where u.tenant_id = ensure_account.tenant_id and u.email = ensure_account.email
      and r.name = ensure_account.role_name
    on conflict on constraint user_roles_pkey do nothing;
  select u.id from app_public.users u where u.tenant_id = ensure_account.tenant_id and u.email = ensure_account.email;
$$;
comment on function app_private.ensure_account(uuid, citext, citext, text, text, text) is
  E'@module identity\n'
  'An account made outside the API (the bootstrap''s owner, demo users): creates the user with the password '
  'hash and the role of the tenant, or finds it by e-mail (its password then unchanged, the role added if '
  'missing); returns its id.';

--------------------------------------------------------------------------------------------------
-- Policy names: <command>_<who> (the scheme is in the platform section's header).

do $$
declare
  v record;
begin
  for v in
    select * from (values
      ('users', 'select_same_tenant', 'select_member'),
      ('permissions', 'select_all', 'select_anyone'),
      ('roles', 'select_own_tenant', 'select_member'),
      ('role_permissions', 'select_own_tenant', 'select_member'),
      ('user_roles', 'select_own_tenant', 'select_member')
    ) as p(table_name, old_name, new_name)
  loop
    if exists (select 1 from pg_policies p
               where p.schemaname = 'app_public' and p.tablename = v.table_name and p.policyname = v.old_name) then
      execute format('alter policy %I on app_public.%I rename to %I', v.old_name, v.table_name, v.new_name);
    end if;
  end loop;
end
$$;

--------------------------------------------------------------------------------------------------
-- Identity's other objects, with their module.

comment on table app_public.users is
  E'@module identity\n@behavior -insert -update -delete\nA person (or the system) acting within one tenant.';
comment on table app_public.roles is
  E'@module identity\n@behavior -insert -update -delete\n'
  'A named set of permissions within a tenant. Built-in: owner, admin, manager, member.';
comment on table app_public.permissions is
  E'@module identity\n@behavior -insert -update -delete\nWhat a role may do.';
comment on table app_public.role_permissions is
  E'@module identity\n@behavior -insert -update -delete\nThe permissions each role grants.';
comment on table app_public.user_roles is
  E'@module identity\n@behavior -insert -update -delete\nWhich roles a user holds.';
comment on type app_public.session_info is
  E'@module identity\nA session of the signed-in user, without any token.';
comment on table app_private.user_secrets is
  E'@module identity\nPassword hash and TOTP state of a user; never exposed.';
comment on table app_private.sessions is
  E'@module identity\n'
  'A signed-in device. Revoked by setting revoked_at; never deleted before it has long expired.';
comment on table app_private.refresh_tokens is
  E'@module identity\n'
  'SHA-256 hashes of opaque refresh tokens; each rotation adds a child and marks the parent rotated.';
comment on table app_private.registrations is
  E'@module identity\n'
  'Issued registrations awaiting their e-mailed code; token and code stored as SHA-256 hashes.';
comment on table app_private.password_resets is
  E'@module identity\nOne-time password reset tokens (SHA-256 hashes).';
comment on table app_private.two_factor_challenges is
  E'@module identity\nThe first step of a two-step login, completed by verifyTwoFactor.';
comment on table app_private.recovery_codes is
  E'@module identity\nSingle-use 2FA recovery codes (SHA-256 hashes).';
comment on table app_private.rate_limits is
  E'@module identity\nCounters of fixed-window rate limits; old windows are deleted by the cleanup job.';
comment on table app_private.auth_events is
  E'@module identity\n'
  'Audit log of identity events (logins, failures, token reuse, password and 2FA changes) with request ids.';

comment on function app_public."current_user"() is
  E'@module identity\nThe signed-in user.';
comment on function app_public.current_session() is
  E'@module identity\nThe session this request was made with.';
comment on function app_public.my_sessions() is
  E'@module identity\nThe signed-in user''s sessions, newest first.';
comment on function app_public.revoke_session(uuid) is
  E'@module identity\n@resultFieldName revoked\nSigns one of your sessions out.';
comment on function app_public.create_user(citext, citext, text, text[]) is
  E'@module identity\n@resultFieldName user\n'
  'Creates a user of the current tenant with the given roles, at least one (needs users.manage; '
  'VALIDATION_FAILED, details.field roles, for no role or an unknown one; FORBIDDEN, details.reason '
  'ROLE_ABOVE_YOURS, for a role above your own). The user sets a password through forgotPassword.';
comment on function app_public.delete_user(uuid) is
  E'@module identity\n@resultFieldName deleted\n'
  'Soft-deletes a user of the current tenant (needs users.manage): revokes every session; a job scrubs '
  'personal data. FORBIDDEN for yourself (details.reason SELF_DELETION) or a user whose role is above yours '
  '(ROLE_ABOVE_YOURS); CONFLICT (LAST_OWNER) for the tenant''s last owner.';

comment on function app_private.builtin_role_rank(text) is
  E'@module identity\n'
  'Rank of a built-in role name: owner 1, admin 2, manager 3, member 4; null for any other name.';
comment on function app_private.user_rank(uuid) is
  E'@module identity\n'
  'Rank of a user''s best built-in role: owner 1, admin 2, manager 3, member 4 (also for no built-in role).';
comment on function app_private.can_grant_role(uuid, uuid) is
  E'@module identity\n'
  'True when the grantor may grant the role: a built-in role not above their rank, or a custom role whose '
  'every permission they hold.';
comment on function app_private.tenant_has_live_owner(uuid, uuid) is
  E'@module identity\n'
  'True when the tenant has a live (not deleted, not system) owner, leaving out except_user_id.';
comment on function app_private.assert_tenant_keeps_an_owner(uuid) is
  E'@module identity\nRefuses (CONFLICT, LAST_OWNER) when the tenant has no live owner left.';
comment on function app_private.tg_users__keep_an_owner() is
  E'@module identity\nRefuses soft-deleting the last live owner of a tenant (CONFLICT, LAST_OWNER).';
comment on function app_private.tg_user_roles__keep_an_owner() is
  E'@module identity\n'
  'Refuses removing or moving the owner role of the last live owner of a tenant (CONFLICT, LAST_OWNER).';
comment on function app_private.tg_sessions__notify_revoked() is
  E'@module identity\n'
  'Tells the API that a session ended (NOTIFY tessera:sessions_ended with its id), so its live '
  'subscriptions end at once.';

comment on function app_private.create_session(uuid, bytea, interval, text, inet) is
  E'@module identity\n'
  'A new session with its first refresh token (its SHA-256). INVALID_CREDENTIALS for a user who may not '
  'sign in: deleted, the system user, or of a suspended tenant.';
comment on function app_private.rotate_refresh_token(bytea, bytea, interval) is
  E'@module identity\n'
  'Rotates a refresh token. Status: ok | invalid | reused. new_token_hash is derived from the presented '
  'token, so presenting one token again always names the same successor: concurrent presentations queue on '
  'the token''s row lock, and within grace_period, while that successor is unused, each answers ok with '
  'the same session. A rotated token presented after grace_period, or once its successor was used, revokes '
  'the whole session (reused). A revoked or expired session, a deleted user or a suspended tenant: invalid.';
comment on function app_private.revoke_sessions(uuid, text, uuid) is
  E'@module identity\nRevokes a user''s live sessions, optionally sparing one.';
comment on function app_private.issue_registration(uuid, citext, citext, text, text, bytea, bytea, text, interval)
  is E'@module identity\n'
  'Stores an issued registration and e-mails its code. Status: issued | email_taken (nothing stored; the '
  'caller answers the same way and the address gets a notice instead of a code) | username_taken.';
comment on function app_private.confirm_registration(bytea, bytea, integer) is
  E'@module identity\n'
  'Creates the user (with the member role) of an issued registration. Status: confirmed | invalid '
  '(unknown, expired, used, or its tenant is no longer active) | wrong_code | locked | username_taken | '
  'email_taken. Attempts are counted under a row lock, so parallel guesses cannot exceed max_attempts.';
comment on function app_private.login_candidate(uuid, citext) is
  E'@module identity\n'
  'The credentials of a user who may sign in, by e-mail or username within a tenant.';
comment on function app_private.set_password(uuid, text, uuid, text) is
  E'@module identity\n'
  'Sets a user''s password hash, revokes their other sessions (sparing keep_session_id) with the reason, '
  'and e-mails a notice.';
comment on function app_private.issue_password_reset(uuid, citext, bytea, text, interval) is
  E'@module identity\n'
  'Forgotten password: stores the hashed token and e-mails the token, only if the user exists.';
comment on function app_private.reset_password(bytea, text) is
  E'@module identity\n'
  'Uses a reset token: the new password replaces the old and every session is revoked; null for a token '
  'that is unknown, used or expired.';
comment on function app_private.consume_totp_step(uuid, bigint) is
  E'@module identity\n'
  'Accepts a TOTP time step once: false when this or a later step was already used.';
comment on function app_private.consume_recovery_code(uuid, bytea) is
  E'@module identity\nUses an unused recovery code (its SHA-256) once: false when unknown or used.';
comment on function app_private.enable_two_factor(uuid, bigint, bytea[]) is
  E'@module identity\n'
  'Turns the pending TOTP secret on (the step of the first valid code counts as used), replaces the '
  'recovery codes and e-mails a notice; false when there is no pending secret.';
comment on function app_private.disable_two_factor(uuid) is
  E'@module identity\n'
  'Turns two-factor authentication off, deletes the recovery codes and e-mails a notice.';
comment on function app_private.cleanup_expired(interval) is
  E'@module identity\n'
  'Deletes sessions, registrations, reset tokens and 2FA challenges expired (or revoked) for longer than the '
  'retention, and rate-limit windows older than a day.';
comment on function app_private.scrub_user(uuid) is
  E'@module identity\nRemoves a soft-deleted user''s personal data and secrets.';

--! split: 030-tenancy.sql
--------------------------------------------------------------------------------------------------
-- 030-tenancy: tenants and the module catalogue.
--
-- app_public.modules lists the modules a tenant can switch on or off; each module's section adds
-- its own row. A new tenant gets every module on (its tenant_created consumer); a module added
-- later is switched on for every existing tenant by the trigger below, the same way.

create or replace function app_private.tg_modules__enable_for_tenants() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  insert into app_public.tenant_modules (tenant_id, module, enabled)
    select t.id, new.name, true from app_public.tenants t
    on conflict on constraint tenant_modules_pkey do nothing;
  return null;
end;
$$;
comment on function app_private.tg_modules__enable_for_tenants() is
  E'@module tenancy\nSwitches a newly registered module on for every existing tenant.';
drop trigger if exists _500_enable_for_tenants on app_public.modules;
create trigger _500_enable_for_tenants after insert on app_public.modules
  for each row execute function app_private.tg_modules__enable_for_tenants();

-- Tenancy's own permission.
insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'modules.manage'), ('admin', 'modules.manage')
  on conflict do nothing;

do $$
declare
  v record;
begin
  for v in
    select * from (values
      ('tenants', 'select_own', 'select_member'),
      ('modules', 'select_all', 'select_anyone'),
      ('tenant_modules', 'select_own', 'select_member'),
      ('tenant_modules', 'insert_as_manager', 'insert_modules_manage'),
      ('tenant_modules', 'update_as_manager', 'update_modules_manage')
    ) as p(table_name, old_name, new_name)
  loop
    if exists (select 1 from pg_policies p
               where p.schemaname = 'app_public' and p.tablename = v.table_name and p.policyname = v.old_name) then
      execute format('alter policy %I on app_public.%I rename to %I', v.old_name, v.table_name, v.new_name);
    end if;
  end loop;
end
$$;

--------------------------------------------------------------------------------------------------
-- Tenancy's other objects, with their module.

comment on table app_public.tenants is
  E'@module tenancy\n@behavior -insert -update -delete\n'
  'An organisation using Tessera; all of its data is isolated from other tenants.';
comment on table app_public.modules is
  E'@module tenancy\n@behavior -insert -update -delete\nThe modules a tenant can switch on or off.';
comment on table app_public.tenant_modules is
  E'@module tenancy\n@behavior -insert -update -delete\n'
  'Which modules a tenant uses; a disabled module''s data is invisible and its mutations are refused.';

comment on function app_public.current_tenant() is
  E'@module tenancy\nThe tenant of the signed-in user.';
comment on function app_public.set_tenant_module(text, boolean) is
  E'@module tenancy\n@resultFieldName tenantModule\n'
  'Switches a module on or off for the current tenant (owner or admin only).';
comment on function app_private.tg_tenant_modules__notify() is
  E'@module tenancy\nTells live subscribers of the tenant that one of its modules changed.';
comment on function app_private.tg_tenants__notify_suspended() is
  E'@module tenancy\n'
  'Tells the API that a tenant left ''active'' (NOTIFY tessera:sessions_ended with its id), so the live '
  'subscriptions of its sessions end at once.';
comment on function app_private.tg_tenants__publish_created() is
  E'@module tenancy\n'
  'Publishes tenant_created for a new tenant; its consumers give it its roles, system user and modules.';

--! split: 040-notifications.sql
--------------------------------------------------------------------------------------------------
-- 040-notifications: instant notifications, shown in the app and delivered live; written by the
-- modules that notify (events today).
--
-- A notification's recipient belongs to the notification's tenant: composite foreign key to users
-- (tenant_id, id), hidden from GraphQL (the recipient relation stays the one of recipient_id).

alter table app_public.instant_notifications
  drop constraint if exists instant_notifications_tenant_id_recipient_id_fkey;
alter table app_public.instant_notifications add constraint instant_notifications_tenant_id_recipient_id_fkey
  foreign key (tenant_id, recipient_id) references app_public.users (tenant_id, id) on delete cascade;
comment on constraint instant_notifications_tenant_id_recipient_id_fkey on app_public.instant_notifications is
  E'@behavior -*\nThe recipient belongs to the notification''s tenant.';
create index if not exists instant_notifications_tenant_recipient_idx
  on app_public.instant_notifications (tenant_id, recipient_id);
drop index if exists app_public.instant_notifications_tenant_idx;

do $$
begin
  if exists (select 1 from pg_policies p where p.schemaname = 'app_public'
             and p.tablename = 'instant_notifications' and p.policyname = 'select_own') then
    alter policy select_own on app_public.instant_notifications rename to select_self;
  end if;
end
$$;

comment on table app_public.instant_notifications is
  E'@module notifications\n@behavior -insert -update -delete\n'
  'A message to one user, shown in the app and delivered live.';
comment on function app_public.ack_notification(uuid) is
  E'@module notifications\n@resultFieldName notification\nMarks one of your notifications as read.';
comment on function app_public.ack_all_notifications() is
  E'@module notifications\n@resultFieldName acked\nMarks all your notifications as read; answers how many.';
comment on function app_public.unread_notifications_count() is
  E'@module notifications\nHow many of your notifications are unread.';
comment on function app_private.tg_instant_notifications__notify() is
  E'@module notifications\n'
  'Delivers a new notification live: NOTIFY user:<recipient>:notifications with its id.';

--! split: 050-events.sql
--------------------------------------------------------------------------------------------------
-- 050-events: events (meetups), their participants and reminders.
--
-- The module's row in the catalogue and its permission's built-in grants; its functions use the
-- platform's access guard (app_private.assert_module_access) instead of a guard of their own.
-- A participant belongs to the tenant of the event and of the user; an event's creator to the
-- event's tenant: composite foreign keys, hidden from GraphQL (the relations stay those of the
-- single columns). participantsCount counts within the caller's tenant only.

insert into app_public.modules (name, description)
  values ('events', 'Events, participants, reminders and notifications.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'events.manage'), ('admin', 'events.manage'), ('manager', 'events.manage')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- The mutations, guarded by assert_module_access('events', …); bodies otherwise as before.

create or replace function app_public.create_event(
  name text, starts_at timestamptz, ends_at timestamptz, short_description text default null,
  description text default null, location text default null, image text default null,
  payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  insert into app_public.events (tenant_id, name, starts_at, ends_at, short_description, description, location,
                                 image, payment_info, max_participants_count, created_by)
    values (app_public.current_tenant_id(), create_event.name, create_event.starts_at, create_event.ends_at,
            create_event.short_description, create_event.description, create_event.location, create_event.image,
            create_event.payment_info, create_event.max_participants_count, app_public.current_user_id())
    returning * into v_event;
  return v_event;
end;
$$;
comment on function app_public.create_event(text, timestamptz, timestamptz, text, text, text, text, text, integer) is
  E'@module events\n@resultFieldName event\nCreates an event (needs events.manage).';

create or replace function app_public.update_event(
  event_id uuid, name text default null, starts_at timestamptz default null, ends_at timestamptz default null,
  short_description text default null, description text default null, location text default null,
  image text default null, payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participants integer;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  select * into v_event from app_public.events e
    where e.id = update_event.event_id and e.tenant_id = app_public.current_tenant_id()
    for update;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  if update_event.max_participants_count is not null then
    select count(*)::integer into v_participants from app_public.event_participants p
      where p.event_id = v_event.id and p.status = 'PARTICIPATING';
    if update_event.max_participants_count < v_participants then
      raise exception 'The event already has % participants: its capacity cannot be lower', v_participants
        using errcode = 'TCONF',
              detail = json_build_object('reason', 'CAPACITY_BELOW_PARTICIPANTS', 'participantsCount', v_participants,
                                         'maxParticipantsCount', update_event.max_participants_count)::text;
    end if;
  end if;
  update app_public.events e set
    name = coalesce(update_event.name, e.name),
    starts_at = coalesce(update_event.starts_at, e.starts_at),
    ends_at = coalesce(update_event.ends_at, e.ends_at),
    short_description = coalesce(update_event.short_description, e.short_description),
    description = coalesce(update_event.description, e.description),
    location = coalesce(update_event.location, e.location),
    image = coalesce(update_event.image, e.image),
    payment_info = coalesce(update_event.payment_info, e.payment_info),
    max_participants_count = coalesce(update_event.max_participants_count, e.max_participants_count)
  where e.id = v_event.id
  returning * into v_event;
  return v_event;
end;
$$;
comment on function app_public.update_event(uuid, text, timestamptz, timestamptz, text, text, text, text, text, integer)
  is E'@module events\n@resultFieldName event\n'
  'Changes an event (needs events.manage); omitted fields keep their value. Moving it moves the reminders. '
  'A capacity below the current number of participants is refused (CONFLICT, details.reason '
  'CAPACITY_BELOW_PARTICIPANTS).';

create or replace function app_public.reject_event(event_id uuid, reason text default null) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  update app_public.events e set rejected_at = now(), rejection_reason = reject_event.reason
    where e.id = reject_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
    returning * into v_event;
  if v_event.id is null then
    raise exception 'No such event, or already cancelled' using errcode = 'TNFND';
  end if;
  return v_event;
end;
$$;
comment on function app_public.reject_event(uuid, text) is
  E'@module events\n@resultFieldName event\nCancels an event (needs events.manage); every participant is notified.';

create or replace function app_public.join_event(event_id uuid) returns app_public.event_participants
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participant app_public.event_participants;
begin
  perform app_private.assert_module_access('events');
  select * into v_event from app_public.events e
    where e.id = join_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
    for update;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  if v_event.starts_at <= now() then
    raise exception 'The event has already started' using errcode = 'TVALD';
  end if;
  select * into v_participant from app_public.event_participants p
    where p.event_id = v_event.id and p.user_id = app_public.current_user_id();
  if found then
    if v_participant.status = 'REJECTED' then
      raise exception 'You were removed from this event' using errcode = 'TFORB';
    end if;
    return v_participant;
  end if;
  if v_event.max_participants_count is not null
     and (select count(*) from app_public.event_participants p
          where p.event_id = v_event.id and p.status = 'PARTICIPATING') >= v_event.max_participants_count then
    raise exception 'The event is full' using errcode = 'TEFUL';
  end if;
  insert into app_public.event_participants (tenant_id, event_id, user_id)
    values (v_event.tenant_id, v_event.id, app_public.current_user_id())
    returning * into v_participant;
  return v_participant;
end;
$$;
comment on function app_public.join_event(uuid) is
  E'@module events\n@resultFieldName participant\n'
  'Takes part in an event; EVENT_FULL when no place is left. Schedules your reminder.';

create or replace function app_public.leave_event(event_id uuid) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access('events');
  delete from app_public.event_participants p
    where p.event_id = leave_event.event_id and p.user_id = app_public.current_user_id() and p.status = 'PARTICIPATING'
      and p.tenant_id = app_public.current_tenant_id();
  if not found then
    raise exception 'You do not take part in this event' using errcode = 'TNFND';
  end if;
  return true;
end;
$$;
comment on function app_public.leave_event(uuid) is
  E'@module events\n@resultFieldName left\nStops taking part; the reminder is cancelled.';

create or replace function app_public.reject_participant(event_id uuid, user_id uuid)
  returns app_public.event_participants
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_participant app_public.event_participants;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  update app_public.event_participants p set status = 'REJECTED'
    where p.event_id = reject_participant.event_id and p.user_id = reject_participant.user_id
      and p.tenant_id = app_public.current_tenant_id()
    returning * into v_participant;
  if v_participant.id is null then
    raise exception 'No such participant' using errcode = 'TNFND';
  end if;
  return v_participant;
end;
$$;
comment on function app_public.reject_participant(uuid, uuid) is
  E'@module events\n@resultFieldName participant\n'
  'Removes someone from an event (needs events.manage); they cannot join again.';

drop function if exists app_private.assert_events_access(text);

-- A security definer computed column reads within the caller's tenant, whatever row it is given.
create or replace function app_public.events_participants_count(e app_public.events) returns integer
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select count(*)::integer from app_public.event_participants p
  where p.event_id = e.id and p.tenant_id = app_public.current_tenant_id() and p.status = 'PARTICIPATING';
$$;
comment on function app_public.events_participants_count(app_public.events) is
  E'@module events\nHow many people take part.';

--------------------------------------------------------------------------------------------------
-- Tenant consistency: composite foreign keys to events (tenant_id, id) and users (tenant_id, id).

create unique index if not exists events_tenant_id_id_key on app_public.events (tenant_id, id);

alter table app_public.event_participants drop constraint if exists event_participants_tenant_id_event_id_fkey;
alter table app_public.event_participants add constraint event_participants_tenant_id_event_id_fkey
  foreign key (tenant_id, event_id) references app_public.events (tenant_id, id) on delete cascade;
comment on constraint event_participants_tenant_id_event_id_fkey on app_public.event_participants is
  E'@behavior -*\nThe event belongs to the participant''s tenant.';
alter table app_public.event_participants drop constraint if exists event_participants_tenant_id_user_id_fkey;
alter table app_public.event_participants add constraint event_participants_tenant_id_user_id_fkey
  foreign key (tenant_id, user_id) references app_public.users (tenant_id, id) on delete cascade;
comment on constraint event_participants_tenant_id_user_id_fkey on app_public.event_participants is
  E'@behavior -*\nThe user belongs to the participant''s tenant.';
create index if not exists event_participants_tenant_event_idx on app_public.event_participants (tenant_id, event_id);
drop index if exists app_public.event_participants_tenant_idx;
create index if not exists event_participants_user_tenant_idx on app_public.event_participants (user_id, tenant_id);
drop index if exists app_public.event_participants_user_idx;

alter table app_public.events drop constraint if exists events_tenant_id_created_by_fkey;
alter table app_public.events add constraint events_tenant_id_created_by_fkey
  foreign key (tenant_id, created_by) references app_public.users (tenant_id, id) on delete set null (created_by);
comment on constraint events_tenant_id_created_by_fkey on app_public.events is
  E'@behavior -*\nThe creator belongs to the event''s tenant.';
create index if not exists events_created_by_tenant_idx on app_public.events (created_by, tenant_id);
drop index if exists app_public.events_created_by_idx;

do $$
declare
  v record;
begin
  for v in
    select * from (values
      ('events', 'select_visible', 'select_member'),
      ('event_participants', 'select_own_or_manager', 'select_self_or_events_manage')
    ) as p(table_name, old_name, new_name)
  loop
    if exists (select 1 from pg_policies p
               where p.schemaname = 'app_public' and p.tablename = v.table_name and p.policyname = v.old_name) then
      execute format('alter policy %I on app_public.%I rename to %I', v.old_name, v.table_name, v.new_name);
    end if;
  end loop;
end
$$;

--------------------------------------------------------------------------------------------------
-- The events module's other objects, with their module.

comment on table app_public.events is
  E'@module events\n@behavior -insert -update -delete\n'
  'An event of the tenant (module `events`). Members see events that are not rejected.';
comment on table app_public.event_participants is
  E'@module events\n@behavior -insert -update -delete\n'
  'Who takes part in an event. Members see their own participation; managers see all.';
comment on function app_public.search_events(text, timestamptz, timestamptz, boolean) is
  E'@module events\n@behavior +order +filter\n'
  'Events matching a text search (name and descriptions, at most 256 characters), a start range, and/or only '
  'upcoming ones.';
comment on function app_public.events_viewer_is_participating(app_public.events) is
  E'@module events\nTrue when the signed-in user takes part.';
comment on function app_private.schedule_event_reminders(uuid, uuid) is
  E'@module events\n'
  'Schedules (or moves) the reminder job of one participant, or of every participant of the event, in one '
  'bulk enqueue.';
comment on function app_private.tg_event_participants__reminder() is
  E'@module events\n'
  'Schedules a new participant''s reminder; cancels it when the participant leaves or is removed.';
comment on function app_private.tg_events__schedule() is
  E'@module events\n'
  'A cancelled event enqueues the event_cancelled fan-out; a moved one moves its reminders.';
comment on function app_private.events_email_enabled(uuid) is
  E'@module events\n'
  'Whether the tenant wants e-mail copies of event notifications (events module setting '
  '`emailNotifications`, default true).';
comment on function app_private.send_event_reminder(uuid) is
  E'@module events\n'
  'The reminder task: notifies the participant and e-mails them (when the tenant wants e-mails); '
  'idempotent, the participant row records the delivery. False when there is nothing (more) to send.';
comment on function app_private.notify_event_cancelled(uuid, uuid, integer) is
  E'@module events\n'
  'Notifies one batch of an event''s participants of its cancellation; returns the last user id of the '
  'batch (null when done).';
comment on function app_private.check_event_image() is
  E'@module events\n'
  'Before insert/update of an event''s image: https:// URL or /api/images/<id> of an image of the event''s '
  'tenant (VALIDATION_FAILED otherwise).';

-- The words of an event notice are written once, here: the instant notification and the e-mail
-- (whose template only lays them out) both use them.
create or replace function app_private.event_notice(kind text, event app_public.events, out title text, out content text)
  language sql immutable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case event_notice.kind when 'event_reminder' then 'Reminder: ' else 'Cancelled: ' end || (event_notice.event).name,
         case event_notice.kind
           when 'event_reminder' then (event_notice.event).name || ' starts at '
             || to_char((event_notice.event).starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
             || coalesce(' at ' || (event_notice.event).location, '') || '.'
           else (event_notice.event).name || ' has been cancelled'
             || coalesce(': ' || (event_notice.event).rejection_reason, '.')
         end;
$$;
comment on function app_private.event_notice(text, app_public.events) is
  E'@module events\n'
  'Title and text of an event_reminder or event_cancelled notice, for the instant notification and the e-mail alike.';

create or replace function app_private.send_event_reminder(participant_id uuid) returns boolean
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_user app_public.users;
  v_participant app_public.event_participants;
  v_notice record;
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
  select * into v_notice from app_private.event_notice('event_reminder', v_event);
  insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, cta_url, cta_label, subject_id)
    values (v_event.tenant_id, v_user.id, 'event_reminder', v_notice.title, v_notice.content,
            '/events/' || v_event.id, 'Open event', v_event.id)
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing;
  if not found then
    return false;
  end if;
  if app_private.events_email_enabled(v_event.tenant_id) then
    perform app_private.enqueue_job('send_email', json_build_object(
      'template', 'event_reminder', 'to', v_user.email, 'tenantId', v_event.tenant_id,
      'data', json_build_object('title', v_notice.title, 'content', v_notice.content)));
  end if;
  return true;
end;
$$;
comment on function app_private.send_event_reminder(uuid) is
  E'@module events\n'
  'The reminder task: notifies the participant and e-mails them (when the tenant wants e-mails); idempotent, '
  'the participant row records the delivery. False when there is nothing (more) to send.';

create or replace function app_private.notify_event_cancelled(event_id uuid, after_user_id uuid, batch_size integer)
  returns uuid
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_notice record;
  v_last uuid;
  v_recipients text[];
  v_participants uuid[];
begin
  select * into v_event from app_public.events e where e.id = notify_event_cancelled.event_id;
  select * into v_notice from app_private.event_notice('event_cancelled', v_event);
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
    select v_event.tenant_id, b.user_id, 'event_cancelled', v_notice.title, v_notice.content, v_event.id
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
    perform app_private.enqueue_job('send_email', json_build_object(
      'template', 'event_cancelled', 'to', v_recipients, 'tenantId', v_event.tenant_id,
      'data', json_build_object('title', v_notice.title, 'content', v_notice.content)),
      job_key => 'event_cancelled_email:' || v_event.id || ':' || v_last);
  end if;
  return v_last;
end;
$$;
comment on function app_private.notify_event_cancelled(uuid, uuid, integer) is
  E'@module events\n'
  'Notifies one batch of an event''s participants of its cancellation; returns the last user id of the batch '
  '(null when done).';

--! split: 060-media.sql
--------------------------------------------------------------------------------------------------
-- 060-media: uploaded images (per-tenant records over a shared, content-addressed byte store).
--
-- Uploading is the module's own permission, images.upload, granted to the roles that could upload
-- before (built-in owner, admin and manager; any other role holding events.manage or
-- catalog.manage), and media is a module of the catalogue like the others. The upload route asks
-- app_private.assert_module_access(user, tenant, 'media', 'images.upload') and records the upload
-- with app_private.record_image. An image's uploader belongs to the image's tenant.

insert into app_public.modules (name, description)
  values ('media', 'Image uploads, served at /api/images/<id>.')
  on conflict (name) do nothing;

insert into app_public.permissions (name, description)
  values ('images.upload', 'Upload images (POST /api/images).')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'images.upload'), ('admin', 'images.upload'), ('manager', 'images.upload')
  on conflict do nothing;

-- Roles of a tenant's own making keep the uploads they allowed.
insert into app_public.role_permissions (role_id, permission)
  select distinct rp.role_id, 'images.upload'
  from app_public.role_permissions rp join app_public.roles r on r.id = rp.role_id
  where not r.is_builtin and rp.permission in ('events.manage', 'catalog.manage')
  on conflict on constraint role_permissions_pkey do nothing;

create or replace function app_private.record_image(
  tenant_id uuid, uploaded_by uuid, sha256 text, content_type text, size integer,
  out id uuid, out created boolean
)
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  -- One statement, so two uploads of the same bytes at once both get the row: the no-op update
  -- returns the existing one, and xmax = 0 tells a fresh insert.
  insert into app_public.images as i (tenant_id, sha256, content_type, size, uploaded_by)
    values (record_image.tenant_id, record_image.sha256, record_image.content_type, record_image.size,
            record_image.uploaded_by)
    on conflict (tenant_id, sha256) do update set sha256 = i.sha256
    returning i.id, (i.xmax = 0);
$$;
comment on function app_private.record_image(uuid, uuid, text, text, integer) is
  E'@module media\n'
  'The tenant''s record of uploaded bytes (by SHA-256): a new row (created) or the one it already had.';

alter table app_public.images drop constraint if exists images_tenant_id_uploaded_by_fkey;
alter table app_public.images add constraint images_tenant_id_uploaded_by_fkey
  foreign key (tenant_id, uploaded_by) references app_public.users (tenant_id, id) on delete set null (uploaded_by);
comment on constraint images_tenant_id_uploaded_by_fkey on app_public.images is
  E'@behavior -*\nThe uploader belongs to the image''s tenant.';
create index if not exists images_uploaded_by_tenant_idx on app_public.images (uploaded_by, tenant_id);
drop index if exists app_public.images_uploaded_by_idx;

do $$
begin
  if exists (select 1 from pg_policies p where p.schemaname = 'app_public'
             and p.tablename = 'images' and p.policyname = 'select_own_tenant') then
    alter policy select_own_tenant on app_public.images rename to select_member;
  end if;
end
$$;

comment on table app_public.images is
  E'@module media\n@behavior -insert -update -delete\n'
  'An image uploaded by the tenant; served to anyone holding its URL /api/images/<id>. The bytes are stored '
  'once by SHA-256, whichever tenants uploaded them.';

-- A switched-off module's data is invisible: image records too (as events and participants are).
drop policy if exists select_member on app_public.images;
create policy select_member on app_public.images for select using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('media'))
);

--! split: 070-operations.sql
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

--! split: 080-retired-modules.sql
--------------------------------------------------------------------------------------------------
-- 080-retired-modules: no catalogue rows or permissions for modules that do not exist. commerce,
-- messaging and builds were registered ahead of their code, with permissions nothing checked
-- (catalog.manage, orders.read, payments.read, broadcasts.manage, builds.request); a module's
-- own section adds them when the module exists. Last, so that the media section could still see
-- who held catalog.manage.

delete from app_public.role_permissions
  where permission in ('catalog.manage', 'orders.read', 'payments.read', 'broadcasts.manage', 'builds.request');
delete from app_public.permissions
  where name in ('catalog.manage', 'orders.read', 'payments.read', 'broadcasts.manage', 'builds.request');

delete from app_public.tenant_modules where module in ('commerce', 'messaging', 'builds');
delete from app_public.modules where name in ('commerce', 'messaging', 'builds');
