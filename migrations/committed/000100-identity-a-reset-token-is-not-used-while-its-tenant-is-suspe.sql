--! Previous: sha1:e7c70b4b6af00fcf8b50272be555884ea4481cf7
--! Hash: sha1:cf2a36ce81e56db82944d03a4bb05821e42ac45a
--! Message: Identity: a reset token is not used while its tenant is suspended

--! split: 020-identity.sql
-- A reset token of a suspended tenant's user is not used while the tenant is suspended (as its
-- logins, refresh tokens and forgotPassword are not); reactivated, the token works again until it
-- expires. It had changed the password and revoked the sessions of a frozen account.
create or replace function app_private.reset_password(token_hash bytea, password_hash text)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_user_id uuid;
begin
  select r.user_id into v_user_id
    from app_private.password_resets r
      join app_public.users u on u.id = r.user_id
      join app_public.tenants t on t.id = u.tenant_id
    where r.token_hash = reset_password.token_hash and r.used_at is null and r.expires_at > now() and u.deleted_at is null
      and t.status = 'active'
    for update of r for share of u, t;
  if v_user_id is null then
    return null;
  end if;
  update app_private.password_resets r set used_at = now() where r.token_hash = reset_password.token_hash;
  perform app_private.set_password(v_user_id, reset_password.password_hash, null, 'password_reset');
  return v_user_id;
end;
$function$;
comment on function app_private.reset_password(bytea,text) is '@module identity
Uses a reset token: the new password replaces the old and every session is revoked; null for a token that is unknown, used or expired, whose user has been deleted, or whose tenant is not active (the token stays usable once it is again).';
