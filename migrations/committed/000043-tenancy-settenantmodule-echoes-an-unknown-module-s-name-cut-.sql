--! Previous: sha1:7064ff754242da9a38a13128d15454cb2febad28
--! Hash: sha1:07acf5ca21be290a67394c4064762bf1088c9361
--! Message: Tenancy: setTenantModule echoes an unknown module's name cut to 64 characters

--! split: 200-tenancy.sql
-- setTenantModule: an unknown module's name is echoed cut to 64 characters, as an unknown role's
-- is (a 90,000-character name came back whole in the NOT_FOUND message).
create or replace function app_public.set_tenant_module(module text, enabled boolean)
  returns app_public.tenant_modules language plpgsql as $$
declare
  v_row app_public.tenant_modules;
begin
  if app_public.current_tenant_id() is null then
    raise exception 'Sign in to change modules' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('modules.manage') then
    raise exception 'Changing modules needs the modules.manage permission' using errcode = 'TFORB';
  end if;
  if not exists (select 1 from app_public.modules m where m.name = set_tenant_module.module) then
    raise exception 'Unknown module %', left(set_tenant_module.module, 64) using errcode = 'TNFND';
  end if;
  insert into app_public.tenant_modules as tm (tenant_id, module, enabled)
    values (app_public.current_tenant_id(), set_tenant_module.module, set_tenant_module.enabled)
    on conflict on constraint tenant_modules_pkey do update set enabled = excluded.enabled
    returning * into v_row;
  return v_row;
end;
$$;
