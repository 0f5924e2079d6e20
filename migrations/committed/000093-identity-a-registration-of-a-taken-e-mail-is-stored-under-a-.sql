--! Previous: sha1:bc03dffeabf57ea5cdff9f45ecbd24137700f1ff
--! Hash: sha1:78545fc99e0773ae59e8efced8f60548e3c01ba9
--! Message: identity: a registration of a taken e-mail is stored under a code nobody has (its confirmation answers as a free one's); a two-factor challenge of a deleted user names no user

--! split: 020-identity.sql
-- register with a taken e-mail stores a registration too, under a code nobody has (the address
-- gets a notice, not a code): confirming it answers WRONG_CODE, then LOCKED, as for a free address.
-- Nothing was stored before, so its token was "unknown or expired" at once: an address's
-- registration showed through the confirmation.
create or replace function app_private.issue_registration(tenant_id uuid, email citext, username citext, full_name text, password_hash text, token_hash bytea, code_hash bytea, code text, ttl interval)
 returns text
 language plpgsql
 set search_path to 'pg_catalog', 'public', 'pg_temp'
as $function$
declare
  v_taken boolean;
begin
  -- The username first: its answer is public, and it must not depend on whether the e-mail is taken.
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.username = issue_registration.username) then
    return 'username_taken';
  end if;
  v_taken := exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.email = issue_registration.email);
  insert into app_private.registrations (tenant_id, email, username, full_name, password_hash, token_hash, code_hash, expires_at)
    values (issue_registration.tenant_id, issue_registration.email, issue_registration.username, issue_registration.full_name,
            issue_registration.password_hash, issue_registration.token_hash,
            -- For a taken address, the hash of a random value that is never sent: no code confirms it.
            case when v_taken then sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) else issue_registration.code_hash end,
            now() + issue_registration.ttl);
  if v_taken then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'registration_exists', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id));
    return 'email_taken';
  end if;
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'registration_code', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id,
    'data', json_build_object('code', issue_registration.code, 'minutes', extract(epoch from issue_registration.ttl)::integer / 60)));
  return 'issued';
end;
$function$;
comment on function app_private.issue_registration(uuid,citext,citext,text,text,bytea,bytea,text,interval) is '@module identity
Stores an issued registration and e-mails its code. Status: issued | username_taken (checked first, so the answer does not depend on the e-mail; nothing stored) | email_taken (stored under a code nobody has, so that confirming it answers as for a wrong code; the caller answers as for issued and the address gets a notice instead of a code).';

-- A two-factor login begun before its user was deleted: the challenge names no user any more, so
-- it is INVALID_TOKEN before the scrub and after it alike.
create or replace function app_private.two_factor_challenge_user(token_hash bytea)
 returns uuid
 language sql
 stable
 set search_path to 'pg_catalog', 'public', 'pg_temp'
as $function$
  select c.user_id from app_private.two_factor_challenges c join app_public.users u on u.id = c.user_id
  where c.token_hash = two_factor_challenge_user.token_hash and c.used_at is null and c.expires_at > now()
    and u.deleted_at is null;
$function$;
comment on function app_private.two_factor_challenge_user(bytea) is '@module identity
The user of an unused, unexpired two-factor challenge whose user is not deleted; null for any other token.';
