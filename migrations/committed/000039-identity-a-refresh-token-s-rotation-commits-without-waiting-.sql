--! Previous: sha1:bcaa245ce7b9c75142fa24205c1525c8f7e394d6
--! Hash: sha1:3cd12c1810765e3096ae0572ee92b57c2dcc5e13
--! Message: identity: a refresh token's rotation commits without waiting for its WAL flush (synchronous_commit off for its transaction only, set inside rotate_refresh_token)

--! split: 300-identity.sql
-- identity: a refresh token's rotation commits asynchronously (synchronous_commit off for its
-- transaction, set inside rotate_refresh_token): losing the last rotations to a database crash signs
-- their clients out and weakens nothing, and each refresh no longer waits for a WAL flush.
create or replace function app_private.rotate_refresh_token(token_hash bytea, new_token_hash bytea, grace_period interval, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT tenant_id uuid)
 RETURNS record
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
    -- The rotation's transaction commits without waiting for its WAL to reach the disk. Up to three
    -- wal_writer_delay (600 ms) of rotations can be lost if PostgreSQL itself crashes: the client's
    -- new token is then unknown and it signs in again; its old one is still unrotated, as before
    -- the refresh. Nothing else of the transaction is at stake, and each refresh is spared the
    -- wait for a flush of its own.
    perform set_config('synchronous_commit', 'off', true);
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
$function$;
