--------------------------------------------------------------------------------------------------
-- 030-tenancy: tenants and the module catalogue.
--
-- app_public.modules lists the modules a tenant can switch on or off; each module's section adds
-- its own row. A new tenant gets every module on (its tenant_created consumer); a module added
-- later is switched on for every existing tenant by the trigger below, the same way.

create or replace function app_private.tg_modules__enable_for_tenants() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  insert into app_public.tenant_modules (tenant_id, module, enabled)
    select t.id, new.name, true from app_public.tenants t
    on conflict on constraint tenant_modules_pkey do nothing;
  return null;
end;
$$;
comment on function app_private.tg_modules__enable_for_tenants() is
  E'@module tenancy\nSwitches a newly registered module on for every existing tenant.';
drop trigger if exists _500_enable_for_tenants on app_public.modules;
create trigger _500_enable_for_tenants after insert on app_public.modules
  for each row execute function app_private.tg_modules__enable_for_tenants();

-- Tenancy's own permission.
insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'modules.manage'), ('admin', 'modules.manage')
  on conflict do nothing;

do $$
declare
  v record;
begin
  for v in
    select * from (values
      ('tenants', 'select_own', 'select_member'),
      ('modules', 'select_all', 'select_anyone'),
      ('tenant_modules', 'select_own', 'select_member'),
      ('tenant_modules', 'insert_as_manager', 'insert_modules_manage'),
      ('tenant_modules', 'update_as_manager', 'update_modules_manage')
    ) as p(table_name, old_name, new_name)
  loop
    if exists (select 1 from pg_policies p
               where p.schemaname = 'app_public' and p.tablename = v.table_name and p.policyname = v.old_name) then
      execute format('alter policy %I on app_public.%I rename to %I', v.old_name, v.table_name, v.new_name);
    end if;
  end loop;
end
$$;

--------------------------------------------------------------------------------------------------
-- Tenancy's other objects, with their module.

comment on table app_public.tenants is
  E'@module tenancy\n@behavior -insert -update -delete\n'
  'An organisation using Tessera; all of its data is isolated from other tenants.';
comment on table app_public.modules is
  E'@module tenancy\n@behavior -insert -update -delete\nThe modules a tenant can switch on or off.';
comment on table app_public.tenant_modules is
  E'@module tenancy\n@behavior -insert -update -delete\n'
  'Which modules a tenant uses; a disabled module''s data is invisible and its mutations are refused.';

comment on function app_public.current_tenant() is
  E'@module tenancy\nThe tenant of the signed-in user.';
comment on function app_public.set_tenant_module(text, boolean) is
  E'@module tenancy\n@resultFieldName tenantModule\n'
  'Switches a module on or off for the current tenant (owner or admin only).';
comment on function app_private.tg_tenant_modules__notify() is
  E'@module tenancy\nTells live subscribers of the tenant that one of its modules changed.';
comment on function app_private.tg_tenants__notify_suspended() is
  E'@module tenancy\n'
  'Tells the API that a tenant left ''active'' (NOTIFY tessera:sessions_ended with its id), so the live '
  'subscriptions of its sessions end at once.';
comment on function app_private.tg_tenants__publish_created() is
  E'@module tenancy\n'
  'Publishes tenant_created for a new tenant; its consumers give it its roles, system user and modules.';
