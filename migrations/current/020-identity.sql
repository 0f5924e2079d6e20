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
