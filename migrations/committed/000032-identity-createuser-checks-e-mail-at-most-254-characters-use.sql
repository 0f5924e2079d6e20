--! Previous: sha1:598d967224bc2d2edd8a2d51370b076d02cc0911
--! Hash: sha1:1445b1f0e1212541ed2ff83924383eb9bfcc656e
--! Message: Identity: createUser checks e-mail (at most 254 characters), username, full name and roles itself and names the field; an unknown role is named alone

--! split: 1-current.sql
-- Identity: createUser checks its input itself and names the field (an e-mail had no length limit:
-- 30,000 characters were stored, 20,000 random ones failed on the index with no field named); an
-- unknown role is named alone (the message repeated the whole list given).
create or replace function app_public.create_user(email citext, username citext, full_name text default null,
  roles text[] default array['member'])
  returns app_public.users
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_unknown text;
  v_role app_public.roles;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  if create_user.email is null or length(create_user.email) > 254 or create_user.email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise exception 'The e-mail address is not valid (at most 254 characters, name@domain)'
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
  insert into app_public.users (tenant_id, email, username, full_name)
    values (app_public.current_tenant_id(), create_user.email, create_user.username, create_user.full_name)
    returning * into v_user;
  insert into app_public.user_roles (user_id, role_id)
    select v_user.id, r.id from app_public.roles r
    where r.tenant_id = app_public.current_tenant_id() and r.name = any(create_user.roles);
  insert into app_private.user_secrets (user_id) values (v_user.id);
  return v_user;
end;
$$;

alter table app_public.users drop constraint if exists users_email_length_check;
-- not valid: rows stored before keep their address; every new or changed one is checked.
alter table app_public.users add constraint users_email_length_check check (length(email) <= 254) not valid;
comment on function app_public.create_user(citext, citext, text, text[]) is
  E'@module identity\n@resultFieldName user\nCreates a user of the current tenant with the given roles, at least one (needs users.manage). VALIDATION_FAILED names the field: email (at most 254 characters, name@domain), username (2 to 64 letters, digits, ".", "_" or "-"), fullName (at most 200 characters), roles (none, or an unknown one, named in the message); FORBIDDEN, details.reason ROLE_ABOVE_YOURS, for a role above your own. The user sets a password through forgotPassword.';
