--! Previous: sha1:ee58587937da86fecdc916237ea4e56fb35783fc
--! Hash: sha1:ede7df2ac32cfd0e2b9a473096ce9feb9c587921
--! Message: last-owner guard: one trigger function per table over a shared check (plpgsql_check-clean)

--! split: 1-current.sql
-- Enter migration here

--! split: 010-keep-an-owner.sql
-- 010-keep-an-owner: the last-owner guard as one trigger function per table (a function shared by
-- users and user_roles read fields that only one of them has, which plpgsql_check refuses), over
-- one check that both call.

create or replace function app_private.assert_tenant_keeps_an_owner(tenant_id uuid) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if assert_tenant_keeps_an_owner.tenant_id is null then
    return;
  end if;
  -- Serialises owner removals of one tenant: two owners deleting each other cannot both pass.
  perform 1 from app_public.tenants t where t.id = assert_tenant_keeps_an_owner.tenant_id for no key update;
  if not found then
    return; -- the tenant itself is being deleted
  end if;
  if not app_private.tenant_has_live_owner(assert_tenant_keeps_an_owner.tenant_id) then
    raise exception 'The last owner of a tenant cannot be removed' using errcode = 'TCONF', detail = '{"reason":"LAST_OWNER"}';
  end if;
end;
$$;
comment on function app_private.assert_tenant_keeps_an_owner(uuid) is 'Refuses (CONFLICT, LAST_OWNER) when the tenant has no live owner left.';

create or replace function app_private.tg_users__keep_an_owner() returns trigger
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid;
begin
  if old.deleted_at is not null or new.deleted_at is null then
    return null;
  end if;
  select r.tenant_id into v_tenant from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id
    where ur.user_id = old.id and r.is_builtin and r.name = 'owner';
  perform app_private.assert_tenant_keeps_an_owner(v_tenant);
  return null;
end;
$$;
comment on function app_private.tg_users__keep_an_owner() is 'Refuses soft-deleting the last live owner of a tenant (CONFLICT, LAST_OWNER).';

create or replace function app_private.tg_user_roles__keep_an_owner() returns trigger
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid;
begin
  if tg_op = 'UPDATE' and new.user_id = old.user_id and new.role_id = old.role_id then
    return null;
  end if;
  select r.tenant_id into v_tenant from app_public.roles r where r.id = old.role_id and r.is_builtin and r.name = 'owner';
  perform app_private.assert_tenant_keeps_an_owner(v_tenant);
  return null;
end;
$$;
comment on function app_private.tg_user_roles__keep_an_owner() is 'Refuses removing or moving the owner role of the last live owner of a tenant (CONFLICT, LAST_OWNER).';

drop trigger if exists _800_keep_an_owner on app_public.users;
create trigger _800_keep_an_owner after update of deleted_at on app_public.users
  for each row execute function app_private.tg_users__keep_an_owner();
drop trigger if exists _800_keep_an_owner on app_public.user_roles;
create trigger _800_keep_an_owner after update or delete on app_public.user_roles
  for each row execute function app_private.tg_user_roles__keep_an_owner();
drop function if exists app_private.tg__keep_an_owner();
