--! Previous: sha1:9fbfd13908a1dfd134671164890b381c627ccc69
--! Hash: sha1:ee58587937da86fecdc916237ea4e56fb35783fc
--! Message: security follow-ups: suspended tenants' registrations, event images of the tenant only, unlockStaleJobs at least one minute, users always get a role

--! split: 1-current.sql
-- Enter migration here

--! split: 010-identity.sql
-- 010-identity: a registration issued before its tenant was suspended cannot be confirmed (the
-- account would exist although no session may be opened for it).
create or replace function app_private.confirm_registration(
  token_hash bytea, code_hash bytea, max_attempts integer,
  out status text, out user_id uuid
)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_reg app_private.registrations;
  v_member_role uuid;
begin
  select * into v_reg from app_private.registrations r where r.token_hash = confirm_registration.token_hash for update;
  if not found or v_reg.confirmed_at is not null or v_reg.expires_at <= now() then
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
  update app_private.registrations r set confirmed_at = now() where r.id = v_reg.id;
  insert into app_public.users (tenant_id, email, username, full_name)
    values (v_reg.tenant_id, v_reg.email, v_reg.username, v_reg.full_name) returning id into user_id;
  insert into app_private.user_secrets (user_id, password_hash, password_changed_at) values (confirm_registration.user_id, v_reg.password_hash, now());
  select r.id into v_member_role from app_public.roles r where r.tenant_id = v_reg.tenant_id and r.name = 'member';
  if v_member_role is not null then
    insert into app_public.user_roles (user_id, role_id) values (confirm_registration.user_id, v_member_role);
  end if;
  status := 'confirmed';
end;
$$;

--! split: 020-events-images-jobs.sql
-- 020-events-images-jobs: an event's image is the tenant's own upload or an https:// URL; stale
-- job locks are released only after at least a minute; a user is never created without a role.

--------------------------------------------------------------------------------------------------
-- Event images. The check constraint events_image_check (000008) stays as the shape check for
-- stored rows (older rows may hold http:// URLs); new or changed values are checked here:
-- `https://<no spaces>` or `/api/images/<uuid>` naming a row of app_public.images of the
-- event's own tenant. Anything else is VALIDATION_FAILED, details {"field":"image"}. A row whose
-- image does not change is not re-checked (links converted by 000008 are rows of their tenant).

create or replace function app_private.check_event_image() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.image is null then
    return new;
  end if;
  if tg_op = 'UPDATE' and new.image is not distinct from old.image and new.tenant_id is not distinct from old.tenant_id then
    return new;
  end if;
  if new.image ~ '^https://\S+$' then
    return new;
  end if;
  if new.image ~ '^/api/images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and exists (select 1 from app_public.images i where i.id = substr(new.image, 13)::uuid and i.tenant_id = new.tenant_id) then
    return new;
  end if;
  raise exception 'An event image is an https:// URL or /api/images/<id> of an image this tenant uploaded'
    using errcode = 'TVALD', detail = '{"field":"image"}';
end;
$$;
comment on function app_private.check_event_image() is
  'Before insert/update of an event''s image: https:// URL or /api/images/<id> of an image of the event''s tenant (VALIDATION_FAILED otherwise).';

drop trigger if exists _200_check_image on app_public.events;
create trigger _200_check_image
  before insert or update of image, tenant_id on app_public.events
  for each row execute function app_private.check_event_image();
comment on column app_public.events.image is 'An https:// URL, or /api/images/<id> of an image uploaded by the event''s tenant.';

--------------------------------------------------------------------------------------------------
-- Releasing workers' locks: a lock younger than a minute belongs to a job running now.

create or replace function app_public.unlock_stale_jobs(locked_for_minutes integer default 15) returns integer
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_workers text[];
  v_count integer;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_private.current_user_is_operator() then
    raise exception 'Releasing workers'' locks is for platform operators' using errcode = 'TFORB';
  end if;
  if unlock_stale_jobs.locked_for_minutes is null or unlock_stale_jobs.locked_for_minutes < 1 then
    raise exception 'lockedForMinutes must be at least 1' using errcode = 'TVALD', detail = '{"field":"lockedForMinutes"}';
  end if;
  select array_agg(distinct j.locked_by), count(*) into v_workers, v_count
    from graphile_worker.jobs j where j.locked_at < now() - make_interval(mins => unlock_stale_jobs.locked_for_minutes);
  if v_count > 0 then
    perform graphile_worker.force_unlock_workers(v_workers);
  end if;
  return v_count;
end;
$$;
comment on function app_public.unlock_stale_jobs(integer) is
  E'@resultFieldName unlocked\nReleases the jobs of workers that have held a job longer than this many minutes (at least 1; presumed dead), so others can run them (platform operators only).';

--------------------------------------------------------------------------------------------------
-- createUser: at least one role (an empty or null list is VALIDATION_FAILED, field roles).

create or replace function app_public.create_user(email citext, username citext, full_name text default null, roles text[] default array['member']) returns app_public.users
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_found int;
  v_role app_public.roles;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  if coalesce(cardinality(create_user.roles), 0) = 0 or array_position(create_user.roles, null) is not null then
    raise exception 'A user needs at least one role' using errcode = 'TVALD', detail = '{"field":"roles"}';
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
  get diagnostics v_found = row_count;
  if v_found <> cardinality(array(select distinct unnest(create_user.roles))) then
    raise exception 'Unknown role in %', create_user.roles using errcode = 'TVALD', detail = '{"field":"roles"}';
  end if;
  insert into app_private.user_secrets (user_id) values (v_user.id);
  return v_user;
end;
$$;
comment on function app_public.create_user(citext, citext, text, text[]) is
  E'@resultFieldName user\nCreates a user of the current tenant with the given roles, at least one (needs users.manage; VALIDATION_FAILED, details.field roles, for no role or an unknown one; FORBIDDEN, details.reason ROLE_ABOVE_YOURS, for a role above your own). The user sets a password through forgotPassword.';
