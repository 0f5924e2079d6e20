--! Previous: sha1:a3c8f5e453cc3cbe154fd415a5d4e2eeedbd088a
--! Hash: sha1:41e57cdf57e512fc7ac34c1eff708e32f09d131f
--! Message: Identity: an e-mail address holds no control or invisible formatting character (U+202E made an address read as another); app_private.email_is_valid used by createUser and a users constraint; registration refuses the same

--! split: 1-current.sql
-- Identity: an e-mail address holds no control or invisible formatting character (a right-to-left
-- override such as U+202E makes an address read as another one). One definition of a valid address,
-- used by createUser (which names the field) and by a table constraint that holds for every path.
create or replace function app_private.email_is_valid(email citext) returns boolean
  language sql immutable parallel safe
  set search_path to pg_catalog, public, pg_temp
as $$
  select length(email) <= 254
    and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
    -- Controls (C0, DEL, C1) and the formatting characters of Unicode's class Cf.
    and email !~ '[\x01-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]';
$$;
comment on function app_private.email_is_valid(citext) is
  E'@module identity\nTrue for an e-mail address of at most 254 characters, name@domain, with no control or invisible formatting character (U+200B, U+202E, U+FEFF…).';

alter table app_public.users drop constraint if exists users_email_valid;
-- not valid: rows stored before keep their address; every new or changed one is checked.
alter table app_public.users add constraint users_email_valid check (app_private.email_is_valid(email)) not valid;

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
comment on function app_public.create_user(citext, citext, text, text[]) is
  E'@module identity\n@resultFieldName user\nCreates a user of the current tenant with the given roles, at least one (needs users.manage). VALIDATION_FAILED names the field: email (at most 254 characters, name@domain, no control or invisible character), username (2 to 64 letters, digits, ".", "_" or "-"), fullName (at most 200 characters), roles (none, or an unknown one, named in the message); FORBIDDEN, details.reason ROLE_ABOVE_YOURS, for a role above your own. The user sets a password through forgotPassword.';
