--! Previous: sha1:320390c52cd2a75b6a1fb7be0740242a7ea47107
--! Hash: sha1:598d967224bc2d2edd8a2d51370b076d02cc0911
--! Message: Identity: built-in roles read their grants from app_private.builtin_role_permissions instead of a copy per tenant; Role.permissions lists what a role grants

--! split: 1-current.sql
-- Identity: a built-in role's grants are read from app_private.builtin_role_permissions, not copied
-- into role_permissions for every tenant. role_permissions keeps what is set per role: a custom
-- role's grants (and any grant added by hand to a built-in role, which keeps counting).

-- Every permission a role grants: its own rows, and a built-in role's catalogue grants.
create or replace function app_private.role_grants(role_id uuid) returns setof text
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select rp.permission from app_public.role_permissions rp where rp.role_id = role_grants.role_id
  union
  select g.permission
  from app_public.roles r join app_private.builtin_role_permissions g on g.role_name = r.name
  where r.id = role_grants.role_id and r.is_builtin;
$$;
comment on function app_private.role_grants(uuid) is
  E'@module identity\nEvery permission the role grants: its role_permissions rows and, for a built-in role, the rows of app_private.builtin_role_permissions for its name.';

create or replace function app_private.user_has_permission(user_id uuid, tenant_id uuid, permission text)
  returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1
    from app_public.user_roles ur
    join app_public.roles r on r.id = ur.role_id
    where ur.user_id = user_has_permission.user_id
      and r.tenant_id = user_has_permission.tenant_id
      and (
        exists (select 1 from app_public.role_permissions rp
                where rp.role_id = r.id and rp.permission = user_has_permission.permission)
        or (r.is_builtin and exists (select 1 from app_private.builtin_role_permissions g
                                     where g.role_name = r.name and g.permission = user_has_permission.permission))
      )
  );
$$;
comment on function app_private.user_has_permission(uuid, uuid, text) is
  E'@module platform\nTrue when the user holds a role of the tenant that grants the permission (a built-in role grants what app_private.builtin_role_permissions lists for its name).';

create or replace function app_private.can_grant_role(grantor_id uuid, role_id uuid) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case
    when r.is_builtin then coalesce(app_private.builtin_role_rank(r.name), 4) >= app_private.user_rank(can_grant_role.grantor_id)
    else not exists (
      select 1 from app_private.role_grants(r.id) as granted(permission)
      where not app_private.user_has_permission(can_grant_role.grantor_id, r.tenant_id, granted.permission)
    )
  end
  from app_public.roles r where r.id = can_grant_role.role_id;
$$;
comment on function app_private.can_grant_role(uuid, uuid) is
  E'@module identity\nTrue when the grantor may grant the role: a built-in role not above their rank, or a custom role whose every permission they hold.';

create or replace function app_public.roles_permissions(r app_public.roles) returns text[]
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce(array_agg(granted.permission order by granted.permission), '{}')
  from app_public.roles x, app_private.role_grants(x.id) as granted(permission)
  where x.id = r.id and x.tenant_id = app_public.current_tenant_id();
$$;
comment on function app_public.roles_permissions(app_public.roles) is
  E'@module identity\nEvery permission the role grants, sorted: a built-in role''s come from the platform''s catalogue, a custom role''s from its role permissions.';

create or replace function app_private.ensure_tenant_identities(tenant_ids uuid[]) returns void
  language sql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  insert into app_public.roles (tenant_id, name, is_builtin)
    select t.id, r.name, true
    from app_public.tenants t, unnest(array['owner', 'admin', 'manager', 'member']) as r(name)
    where t.id = any(ensure_tenant_identities.tenant_ids)
    order by t.id, r.name
    on conflict on constraint roles_tenant_id_name_key do nothing;
  insert into app_public.users (tenant_id, email, username, full_name, is_system)
    select t.id, 'system@' || t.slug || '.tessera.invalid', 'system', 'System', true
    from app_public.tenants t
    where t.id = any(ensure_tenant_identities.tenant_ids)
    order by t.id
    on conflict on constraint users_tenant_id_username_key do nothing;
$$;
comment on function app_private.ensure_tenant_identities(uuid[]) is
  E'@module identity\nCreates the tenants'' built-in roles (their grants are read from app_private.builtin_role_permissions) and their system users, where missing, in one statement each (run by the tenant_created consumer; idempotent).';

drop trigger if exists _500_propagate on app_private.builtin_role_permissions;
drop function if exists app_private.tg_builtin_role_permissions__propagate();

-- The copies the trigger and the tenant consumer made; a built-in role now reads them from the catalogue.
delete from app_public.role_permissions rp
  using app_public.roles r, app_private.builtin_role_permissions g
  where r.id = rp.role_id and r.is_builtin and g.role_name = r.name and g.permission = rp.permission;

comment on table app_private.builtin_role_permissions is
  E'@module identity\nThe permissions each built-in role of every tenant grants, read where permissions are checked (never copied per tenant); each module adds the rows of its own permissions. A row added or removed here counts for every tenant at once.';
