--! Previous: sha1:91880d0302ac1eca47830b733245ae6325bbbebf
--! Hash: sha1:bc03dffeabf57ea5cdff9f45ecbd24137700f1ff
--! Message: identity: register checks a taken username before the e-mail (no enumeration through USERNAME_TAKEN); a reset token of a user deleted since does nothing; the scrub drops one-time tokens

--! split: 020-identity.sql
-- register: a taken username answers USERNAME_TAKEN whatever the e-mail, so pairing a candidate
-- address with a known username tells nothing about the address (its answer was 202 when the
-- address was taken and 409 when it was free).
create or replace function app_private.issue_registration(tenant_id uuid, email citext, username citext, full_name text, password_hash text, token_hash bytea, code_hash bytea, code text, ttl interval)
 returns text
 language plpgsql
 set search_path to 'pg_catalog', 'public', 'pg_temp'
as $function$
begin
  -- The username first: its answer is public, and it must not depend on whether the e-mail is taken.
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.username = issue_registration.username) then
    return 'username_taken';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.email = issue_registration.email) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'registration_exists', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id));
    return 'email_taken';
  end if;
  insert into app_private.registrations (tenant_id, email, username, full_name, password_hash, token_hash, code_hash, expires_at)
    values (issue_registration.tenant_id, issue_registration.email, issue_registration.username, issue_registration.full_name,
            issue_registration.password_hash, issue_registration.token_hash, issue_registration.code_hash, now() + issue_registration.ttl);
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'registration_code', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id,
    'data', json_build_object('code', issue_registration.code, 'minutes', extract(epoch from issue_registration.ttl)::integer / 60)));
  return 'issued';
end;
$function$;
comment on function app_private.issue_registration(uuid,citext,citext,text,text,bytea,bytea,text,interval) is '@module identity
Stores an issued registration and e-mails its code. Status: issued | username_taken (checked first, so the answer does not depend on the e-mail) | email_taken (nothing stored; the caller answers as for issued and the address gets a notice instead of a code).';

-- A reset token of a user deleted since it was sent sets nothing: the user's row is share-locked
-- with the token, so a deletion committed meanwhile is seen and one that comes after waits.
create or replace function app_private.reset_password(token_hash bytea, password_hash text)
 returns uuid
 language plpgsql
 set search_path to 'pg_catalog', 'public', 'pg_temp'
as $function$
declare
  v_user_id uuid;
begin
  select r.user_id into v_user_id
    from app_private.password_resets r join app_public.users u on u.id = r.user_id
    where r.token_hash = reset_password.token_hash and r.used_at is null and r.expires_at > now() and u.deleted_at is null
    for update of r for share of u;
  if v_user_id is null then
    return null;
  end if;
  update app_private.password_resets r set used_at = now() where r.token_hash = reset_password.token_hash;
  perform app_private.set_password(v_user_id, reset_password.password_hash, null, 'password_reset');
  return v_user_id;
end;
$function$;
comment on function app_private.reset_password(bytea,text) is '@module identity
Uses a reset token: the new password replaces the old and every session is revoked; null for a token that is unknown, used or expired, or whose user has been deleted.';

-- The scrub drops a deleted user's unused one-time tokens with the other secrets.
create or replace function app_private.scrub_user(user_id uuid)
 returns void
 language sql
 set search_path to 'pg_catalog', 'public', 'pg_temp'
as $function$
  update app_public.users u
    set email = 'deleted-' || u.id || '@deleted.invalid', username = 'deleted-' || left(u.id::text, 8), full_name = null
    where u.id = scrub_user.user_id and u.deleted_at is not null;
  -- Only for a user that is deleted: the job names a user id, nothing more.
  delete from app_private.user_secrets s where s.user_id = scrub_user.user_id
    and exists (select 1 from app_public.users u where u.id = s.user_id and u.deleted_at is not null);
  delete from app_private.recovery_codes c where c.user_id = scrub_user.user_id
    and exists (select 1 from app_public.users u where u.id = c.user_id and u.deleted_at is not null);
  delete from app_private.password_resets r where r.user_id = scrub_user.user_id
    and exists (select 1 from app_public.users u where u.id = r.user_id and u.deleted_at is not null);
  delete from app_private.two_factor_challenges c where c.user_id = scrub_user.user_id
    and exists (select 1 from app_public.users u where u.id = c.user_id and u.deleted_at is not null);
$function$;
comment on function app_private.scrub_user(uuid) is '@module identity
Removes a soft-deleted user''s personal data, secrets and one-time tokens (password resets, two-factor challenges).';
