--! Previous: sha1:10d8bd868690de994c153c6aabd27e3e18c19157
--! Hash: sha1:56f2b8f133ba27bbd46b26a036716891a05c3c76
--! Message: identity: the 2FA writes and an image's record check the caller's session under its row lock

--! split: 020-identity.sql
-- The owner-pool writes of 2FA made on a signed-in caller's behalf check the caller's session in
-- their own statement, under the session's row lock: a logout committing between the API's session
-- check and the write is waited for and refuses it, as a password change's does (000079).
create or replace function app_private.hold_live_session(user_id uuid, session_id uuid) returns void
  language plpgsql
  volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform 1 from app_private.sessions s
    where s.id = hold_live_session.session_id and s.user_id = hold_live_session.user_id
      and s.revoked_at is null and s.expires_at > now()
    for share;
  if not found then
    raise exception 'The session has ended; sign in again' using errcode = 'TAUTH';
  end if;
end;
$$;
comment on function app_private.hold_live_session(uuid, uuid) is '@module identity
Share-locks the user''s session until the transaction ends, or raises UNAUTHENTICATED when it has ended (revoked, expired): for a write on the caller''s behalf, in the statement that writes.';
