--! Previous: sha1:a076c1533d527823f0686b78f0f0f60ce72e0650
--! Hash: sha1:904d8a66a232e05f063ffb28cb071263f1e424ba
--! Message: identity: change_password checks the session with hold_live_session instead of its own copy

--! split: 020-identity.sql
-- change_password checks the caller's session with hold_live_session (000080), the check it wrote
-- out itself in 000079: the same lock, refusal and message.
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
  perform app_private.hold_live_session(change_password.user_id, change_password.keep_session_id);
  perform app_private.set_password(change_password.user_id, change_password.password_hash,
    change_password.keep_session_id, 'password_changed');
  return true;
end;
$function$;
comment on function app_private.change_password(uuid,text,text,uuid) is '@module identity
Sets a new password if the stored hash is still the one the current password was checked against (false otherwise: it changed meanwhile), as set_password does; UNAUTHENTICATED when the caller''s session (keep_session_id) has ended.';
