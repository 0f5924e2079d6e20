--! Previous: sha1:3cd12c1810765e3096ae0572ee92b57c2dcc5e13
--! Hash: sha1:ad61cbec000493307cc31b78342bc56ca5753a65
--! Message: identity: logout ends the access token's session, and the refresh token's only without one (a bearer of one session with another's X-Refresh-Token ended both)

--! split: 300-identity.sql
-- identity: logout ends one session — the access token's when the caller has one, the session of
-- the refresh token only without it. Before, a bearer of one session and the refresh token of
-- another ended both.
create or replace function app_private.logout_session(session_id uuid, refresh_token_hash bytea)
 RETURNS integer
 LANGUAGE sql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
  with revoked as (
    update app_private.sessions s set revoked_at = now(), revoked_reason = 'logout'
    where s.revoked_at is null
      and s.id = coalesce(logout_session.session_id,
                          (select t.session_id from app_private.refresh_tokens t
                           where t.token_hash = logout_session.refresh_token_hash))
    returning 1
  )
  select count(*)::integer from revoked;
$function$;
comment on function app_private.logout_session(uuid,bytea) is '@module identity
Logout: revokes the session, or, when none is given, the session of the refresh token (its SHA-256), when still live; returns how many were revoked (0 or 1).';
