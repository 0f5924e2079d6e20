--! Previous: sha1:9c5fdb21f7b547fc9e82eb96e64f3f4913244f79
--! Hash: sha1:5fdaa03ac59d4a38cb50bb53e36ab427b1b41e39
--! Message: Identity: createUser names a null among roles as such (NULL_ITEM), not as no role

--! split: 020-identity.sql
-- A null among the roles was answered "A user needs at least one role", though roles were given:
-- it is now named for what it is (details.reason NULL_ITEM, as a null among memberIds is).
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
  if coalesce(cardinality(create_user.roles), 0) = 0 then
    raise exception 'A user needs at least one role' using errcode = 'TVALD', detail = '{"field":"roles"}';
  end if;
  if array_position(create_user.roles, null) is not null then
    raise exception 'roles holds a null' using errcode = 'TVALD', detail = '{"field":"roles","reason":"NULL_ITEM"}';
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
Creates a user of the current tenant with the given roles, at least one (needs users.manage). VALIDATION_FAILED names the field: email (at most 254 characters, name@domain, no control or invisible character), username (2 to 64 letters, digits, ".", "_" or "-"), fullName (at most 200 characters), roles (none, a null among them — details.reason NULL_ITEM —, or an unknown one, named in the message); FORBIDDEN, details.reason ROLE_ABOVE_YOURS, for a role above your own. The user sets a password through forgotPassword.';
