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
