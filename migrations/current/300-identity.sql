-- 300-identity: work in progress for the next committed migration (idempotent; re-run by `npm run db -- watch` and by the test setup).

-- Rotates a refresh token. Status: ok | invalid | reused. The service derives new_token_hash from
-- the presented token (an HMAC under the server secret), so presenting one token again always
-- names the same successor. Concurrent presentations queue on the token's row lock: the first
-- rotates, the others find it rotated within grace_period with that very successor still unused,
-- and answer ok with the same session — one rotation, every presenter the same new token. A
-- rotated token presented after grace_period, or once its successor was used, revokes the whole
-- session (RFC 9700 §4.14.2).
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
     or exists (select 1 from app_public.users u where u.id = v_session.user_id and u.deleted_at is not null) then
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
