-- Errors that tell the truth: values PostgreSQL accepts but no client means are refused at the
-- door, with a code the error table turns into VALIDATION_FAILED.

-- 'infinity' and '-infinity' are valid timestamptz values; an event that starts or ends at
-- infinity cannot be shown, reminded of or ordered sensibly.
alter table app_public.events drop constraint if exists events_times_finite;
alter table app_public.events add constraint events_times_finite check (isfinite(starts_at) and isfinite(ends_at));

-- A text search longer than a search box can hold only costs: 45,000 words overflow the
-- tsquery parser's stack. The guard mentions no column, so PostgreSQL evaluates it once, before
-- scanning (a one-time filter), and search_events stays a single inlinable SELECT.
drop function if exists app_public.search_events(text, timestamptz, timestamptz, boolean);
drop function if exists app_hidden.assert_search_text(text);
create function app_hidden.assert_search_text(search text) returns boolean
  language plpgsql immutable
as $$
begin
  if length(search) > 256 then
    raise exception 'The search text is longer than 256 characters' using errcode = 'TVALD', detail = '{"field":"search"}';
  end if;
  return true;
end;
$$;
comment on function app_hidden.assert_search_text(text) is 'True for a search text of at most 256 characters; raises VALIDATION_FAILED otherwise.';
grant execute on function app_hidden.assert_search_text(text) to :DATABASE_VISITOR;

create function app_public.search_events(
  search text default null, starts_after timestamptz default null, starts_before timestamptz default null, upcoming boolean default false
) returns setof app_public.events
  language sql stable
as $$
  select e.* from app_public.events e
  where app_hidden.assert_search_text(search_events.search)
    and (search_events.search is null or to_tsvector('simple', e.name || ' ' || coalesce(e.short_description, '') || ' ' || coalesce(e.description, ''))
           @@ websearch_to_tsquery('simple', search_events.search)
         or e.name ilike '%' || search_events.search || '%')
    and (search_events.starts_after is null or e.starts_at >= search_events.starts_after)
    and (search_events.starts_before is null or e.starts_at < search_events.starts_before)
    and (not coalesce(search_events.upcoming, false) or e.starts_at > now())
$$;
comment on function app_public.search_events(text, timestamptz, timestamptz, boolean) is
  E'@behavior +order +filter\nEvents matching a text search (name and descriptions, at most 256 characters), a start range, and/or only upcoming ones.';
grant execute on function app_public.search_events(text, timestamptz, timestamptz, boolean) to :DATABASE_VISITOR;

-- SQL arguments without a default are required in GraphQL (pgStrictFunctions); a full name is
-- optional, so create_user says so with a default.
create or replace function app_public.create_user(email citext, username citext, full_name text default null, roles text[] default array['member']) returns app_public.users
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_found int;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
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
