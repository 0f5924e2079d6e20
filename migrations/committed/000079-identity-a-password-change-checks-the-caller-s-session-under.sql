--! Previous: sha1:0d98311b461b737d0195bf0491741ff52f512fa6
--! Hash: sha1:10d8bd868690de994c153c6aabd27e3e18c19157
--! Message: identity: a password change checks the caller's session under its row lock; commerce: a disabled bot is named as such

--! split: 020-identity.sql
-- A password change checks, in its own transaction, that the caller's session is still live: a
-- logout that committed between the API's session check and the change let it through.
create or replace function app_private.change_password(user_id uuid, checked_hash text, password_hash text, keep_session_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  -- Under the row lock, a change that committed meanwhile is seen: its hash is no longer the checked one.
  perform 1 from app_private.user_secrets s
    where s.user_id = change_password.user_id and s.password_hash = change_password.checked_hash
    for update;
  if not found then
    return false;
  end if;
  -- The caller's session, share-locked: a logout or revocation committed meanwhile is seen (and one
  -- that comes after waits for this change), so a session that has ended changes nothing.
  perform 1 from app_private.sessions s
    where s.id = change_password.keep_session_id and s.user_id = change_password.user_id
      and s.revoked_at is null and s.expires_at > now()
    for share;
  if not found then
    raise exception 'The session has ended; sign in again' using errcode = 'TAUTH';
  end if;
  perform app_private.set_password(change_password.user_id, change_password.password_hash,
    change_password.keep_session_id, 'password_changed');
  return true;
end;
$function$;
comment on function app_private.change_password(uuid,text,text,uuid) is '@module identity
Sets a new password if the stored hash is still the one the current password was checked against (false otherwise: it changed meanwhile), as set_password does; UNAUTHENTICATED when the caller''s session (keep_session_id) has ended.';

--! split: 070-commerce.sql
-- A bot disabled while its request's body was on its way is named as such.
create or replace function app_hidden.confirm_bot_caller(api_key_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_tenant uuid := app_hidden.bot_tenant_id();
begin
  -- No key id: the deployment's SERVICE_API_KEY, which only its configuration revokes.
  if v_tenant is null or (confirm_bot_caller.api_key_id is not null and not exists (
       select 1 from app_public.api_keys k
       where k.id = confirm_bot_caller.api_key_id and k.tenant_id = v_tenant and k.revoked_at is null)) then
    raise exception 'The API key is not valid' using errcode = 'TAUTH';
  end if;
  if not app_private.tenant_module_enabled(v_tenant, 'commerce')
     or not exists (select 1 from app_public.tenants t where t.id = v_tenant and t.status = 'active') then
    raise exception 'The commerce module is switched off for this tenant' using errcode = 'TFORB';
  end if;
  if not exists (select 1 from app_public.bots b
                 where b.id = app_hidden.current_bot_id() and b.tenant_id = v_tenant and b.status = 'active') then
    raise exception 'The bot is not an active bot of this key''s tenant' using errcode = 'TFORB';
  end if;
end;
$function$;
comment on function app_hidden.confirm_bot_caller(uuid) is '@module commerce
The first statement of each bot request''s transaction: its API key (null: the service key) still valid (UNAUTHENTICATED), commerce on and the tenant active, its bot (the claims'') active (FORBIDDEN).';
