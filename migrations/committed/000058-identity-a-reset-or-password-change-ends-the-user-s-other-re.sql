--! Previous: sha1:0f2f1e7a84e27689ef0e9293e67e0857cb703eaf
--! Hash: sha1:93dcd588d23069e2b503ab967e1dd926f7fbc1c0
--! Message: Identity: a reset or password change ends the user's other reset tokens; parallel password changes from one old password, one wins; a registration confirmed again is USED, the loser of a confirmation race EMAIL_TAKEN; createUser trims the address as stored; no empty domain label in a new address

--! split: 030-identity.sql
-- One normalisation of an e-mail address, used by the trigger that stores it and by createUser,
-- which validated the address before the trigger trimmed it: " a@b.test " (ordinary spaces) was
-- refused there while a no-break space was trimmed away.
create or replace function app_private.normalized_email(email text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_email text;
begin
  v_email := regexp_replace(normalized_email.email,
    '^[[:space:]\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|'
    '[[:space:]\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$', '', 'g');
  if exists (select 1 from pg_catalog.pg_collation where collname = 'und-x-icu') then
    execute 'select lower($1 collate "und-x-icu")' into v_email using v_email;
  else
    v_email := lower(v_email);
  end if;
  return normalize(v_email, nfc);
end;
$function$;
comment on function app_private.normalized_email(text) is E'@module identity\n'
  'An e-mail address as it is stored and compared: trimmed of Unicode spaces, in lower case (ICU''s when the '
  'server has it) and in Unicode NFC.';


create or replace function app_private.tg__nfc_email()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  if new.email is null then
    return new;
  end if;
  new.email := app_private.normalized_email(new.email::text);
  -- Lower case can lengthen a text (U+0130 İ is two characters in lower case): an address checked at
  -- 254 characters may be longer once stored. Refused on the field, as any invalid address.
  if length(new.email) > 254 then
    raise exception 'An e-mail address has at most 254 characters' using errcode = 'TVALD', detail = '{"field":"email"}';
  end if;
  return new;
end;
$function$;
comment on function app_private.tg__nfc_email() is '@module identity
Stores the row''s e-mail address trimmed of Unicode spaces, in lower case (ICU''s when the server has it) and in Unicode NFC, as the services compare addresses; longer than 254 characters so, it is VALIDATION_FAILED (field email).';

-- A domain that ends with a dot, begins with one or holds two in a row ("a@b.test.", "a@.b.test")
-- is refused where an address is created: "a@b.test." was a second account beside "a@b.test".
-- Stored addresses are not rechecked.

create or replace function app_private.email_is_valid(email citext)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
  select length(email) <= 254
    and email ~ '^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$'
    -- Controls (C0, DEL, C1) and every formatting character of Unicode's class Cf (Unicode 15).
    and email !~ ('[\x01-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e'
                  '\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd'
                  '\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]');
$function$;
comment on function app_private.email_is_valid(citext) is '@module identity
True for an e-mail address of at most 254 characters, name@domain (no empty label in the domain), with no control or invisible formatting character (U+200B, U+202E, U+FEFF…).';

-- createUser validates the address as it will be stored (trimmed, lower case, NFC).
create or replace function app_public.create_user(email citext, username citext, full_name text DEFAULT NULL::text, roles text[] DEFAULT ARRAY['member'::text])
 RETURNS app_public.users
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_user app_public.users;
  v_unknown text;
  v_role app_public.roles;
  v_constraint text;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  -- Validated and compared as it will be stored.
  create_user.email := app_private.normalized_email(create_user.email);
  if create_user.email is null or not app_private.email_is_valid(create_user.email) then
    raise exception 'The e-mail address is not valid (at most 254 characters, name@domain, no invisible characters)'
      using errcode = 'TVALD', detail = '{"field":"email"}';
  end if;
  if create_user.username is null or create_user.username !~ '^[A-Za-z0-9_.-]{2,64}$' then
    raise exception 'The username must be 2 to 64 letters, digits, ".", "_" or "-"'
      using errcode = 'TVALD', detail = '{"field":"username"}';
  end if;
  if length(create_user.full_name) > 200 then
    raise exception 'The full name is longer than 200 characters' using errcode = 'TVALD', detail = '{"field":"fullName"}';
  end if;
  if coalesce(cardinality(create_user.roles), 0) = 0 or array_position(create_user.roles, null) is not null then
    raise exception 'A user needs at least one role' using errcode = 'TVALD', detail = '{"field":"roles"}';
  end if;
  select r.name into v_unknown from unnest(create_user.roles) as r(name)
    where not exists (select 1 from app_public.roles x
                      where x.tenant_id = app_public.current_tenant_id() and x.name = r.name)
    limit 1;
  if found then
    raise exception 'Unknown role: %', left(v_unknown, 64) using errcode = 'TVALD', detail = '{"field":"roles"}';
  end if;
  for v_role in select * from app_public.roles r where r.tenant_id = app_public.current_tenant_id() and r.name = any(create_user.roles) loop
    if not app_private.can_grant_role(app_public.current_user_id(), v_role.id) then
      raise exception 'You cannot grant the role %: it is above your own', v_role.name
        using errcode = 'TFORB', detail = json_build_object('reason', 'ROLE_ABOVE_YOURS', 'role', v_role.name)::text;
    end if;
  end loop;
  if exists (select 1 from app_public.users u where u.tenant_id = app_public.current_tenant_id() and u.email = create_user.email) then
    raise exception 'That e-mail is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"EMAIL_TAKEN"}';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = app_public.current_tenant_id() and u.username = create_user.username) then
    raise exception 'That username is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"USERNAME_TAKEN"}';
  end if;
  begin
    insert into app_public.users (tenant_id, email, username, full_name)
      values (app_public.current_tenant_id(), create_user.email, create_user.username, create_user.full_name)
      returning * into v_user;
  exception when unique_violation then
    -- Two calls at once: both passed the checks above, the unique index refused the second.
    get stacked diagnostics v_constraint = constraint_name;
    if v_constraint = 'users_tenant_id_email_key' then
      raise exception 'That e-mail is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"EMAIL_TAKEN"}';
    elsif v_constraint = 'users_tenant_id_username_key' then
      raise exception 'That username is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"USERNAME_TAKEN"}';
    end if;
    raise;
  end;
  insert into app_public.user_roles (user_id, role_id)
    select v_user.id, r.id from app_public.roles r
    where r.tenant_id = app_public.current_tenant_id() and r.name = any(create_user.roles);
  insert into app_private.user_secrets (user_id) values (v_user.id);
  return v_user;
end;
$function$;
comment on function app_public.create_user(citext,citext,text,text[]) is '@module identity
@resultFieldName user
Creates a user of the current tenant with the given roles, at least one (needs users.manage). VALIDATION_FAILED names the field: email (at most 254 characters, name@domain, no control or invisible character), username (2 to 64 letters, digits, ".", "_" or "-"), fullName (at most 200 characters), roles (none, or an unknown one, named in the message); FORBIDDEN, details.reason ROLE_ABOVE_YOURS, for a role above your own. The user sets a password through forgotPassword.';

-- A password reset or change makes every other reset token of the user unusable: a second e-mailed
-- link used after a reset set the password again.

create or replace function app_private.set_password(user_id uuid, password_hash text, keep_session_id uuid, reason text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_email citext;
  v_tenant uuid;
begin
  insert into app_private.user_secrets as s (user_id, password_hash, password_changed_at)
    values (set_password.user_id, set_password.password_hash, now())
    on conflict on constraint user_secrets_pkey do update set password_hash = excluded.password_hash, password_changed_at = now();
  perform app_private.revoke_sessions(set_password.user_id, set_password.reason, set_password.keep_session_id);
  update app_private.password_resets r set used_at = now()
    where r.user_id = set_password.user_id and r.used_at is null;
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = set_password.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'password_changed', 'to', v_email, 'tenantId', v_tenant));
end;
$function$;
comment on function app_private.set_password(uuid,text,uuid,text) is '@module identity
Sets a user''s password hash, revokes their other sessions (sparing keep_session_id) with the reason and their unused reset tokens, and e-mails a notice.';

-- changePassword: the hash the current password was checked against must still be the stored one.
-- Parallel changes that all checked the same old password all succeeded, the last one winning.
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
  perform app_private.set_password(change_password.user_id, change_password.password_hash,
    change_password.keep_session_id, 'password_changed');
  return true;
end;
$function$;
comment on function app_private.change_password(uuid,text,text,uuid) is E'@module identity\n'
  'Sets a new password if the stored hash is still the one the current password was checked against '
  '(false otherwise: it changed meanwhile), as set_password does.';


-- confirmRegistration: a registration confirmed already answers "used", not "invalid"; the loser of two
-- registrations of one address confirmed at once answers email_taken, not the unique index's name.
create or replace function app_private.confirm_registration(token_hash bytea, code_hash bytea, max_attempts integer, OUT status text, OUT user_id uuid)
 RETURNS record
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_reg app_private.registrations;
  v_member_role uuid;
  v_constraint text;
begin
  select * into v_reg from app_private.registrations r where r.token_hash = confirm_registration.token_hash for update;
  if found and v_reg.confirmed_at is not null then
    status := 'used';
    return;
  end if;
  if not found or v_reg.expires_at <= now() then
    status := 'invalid';
    return;
  end if;
  if v_reg.locked_at is not null then
    status := 'locked';
    return;
  end if;
  -- A registration of a tenant that is no longer active cannot be completed.
  if not exists (select 1 from app_public.tenants t where t.id = v_reg.tenant_id and t.status = 'active') then
    status := 'invalid';
    return;
  end if;
  if v_reg.code_hash <> confirm_registration.code_hash then
    update app_private.registrations r
      set attempts = r.attempts + 1,
          locked_at = case when r.attempts + 1 >= confirm_registration.max_attempts then now() end
      where r.id = v_reg.id;
    status := 'wrong_code';
    return;
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = v_reg.tenant_id and u.email = v_reg.email) then
    status := 'email_taken';
    return;
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = v_reg.tenant_id and u.username = v_reg.username) then
    status := 'username_taken';
    return;
  end if;
  begin
    insert into app_public.users (tenant_id, email, username, full_name)
      values (v_reg.tenant_id, v_reg.email, v_reg.username, v_reg.full_name) returning id into user_id;
  exception when unique_violation then
    -- Two registrations of one address (or username) confirmed at once: both passed the checks
    -- above, the unique index refused the second.
    get stacked diagnostics v_constraint = constraint_name;
    if v_constraint = 'users_tenant_id_email_key' then
      status := 'email_taken';
      return;
    elsif v_constraint = 'users_tenant_id_username_key' then
      status := 'username_taken';
      return;
    end if;
    raise;
  end;
  update app_private.registrations r set confirmed_at = now() where r.id = v_reg.id;
  insert into app_private.user_secrets (user_id, password_hash, password_changed_at) values (confirm_registration.user_id, v_reg.password_hash, now());
  select r.id into v_member_role from app_public.roles r where r.tenant_id = v_reg.tenant_id and r.name = 'member';
  if v_member_role is not null then
    insert into app_public.user_roles (user_id, role_id) values (confirm_registration.user_id, v_member_role);
  end if;
  status := 'confirmed';
end;
$function$;
comment on function app_private.confirm_registration(bytea,bytea,integer) is '@module identity
Creates the user (with the member role) of an issued registration. Status: confirmed | used (confirmed already) | invalid (unknown, expired, or its tenant is no longer active) | wrong_code | locked | username_taken | email_taken. Attempts are counted under a row lock, so parallel guesses cannot exceed max_attempts.';
