--------------------------------------------------------------------------------------------------
-- 060-media: uploaded images (per-tenant records over a shared, content-addressed byte store).
--
-- Uploading is the module's own permission, images.upload, granted to the roles that could upload
-- before (built-in owner, admin and manager; any other role holding events.manage or
-- catalog.manage), and media is a module of the catalogue like the others. The upload route asks
-- app_private.assert_module_access(user, tenant, 'media', 'images.upload') and records the upload
-- with app_private.record_image. An image's uploader belongs to the image's tenant.

insert into app_public.modules (name, description)
  values ('media', 'Image uploads, served at /api/images/<id>.')
  on conflict (name) do nothing;

insert into app_public.permissions (name, description)
  values ('images.upload', 'Upload images (POST /api/images).')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'images.upload'), ('admin', 'images.upload'), ('manager', 'images.upload')
  on conflict do nothing;

-- Roles of a tenant's own making keep the uploads they allowed.
insert into app_public.role_permissions (role_id, permission)
  select distinct rp.role_id, 'images.upload'
  from app_public.role_permissions rp join app_public.roles r on r.id = rp.role_id
  where not r.is_builtin and rp.permission in ('events.manage', 'catalog.manage')
  on conflict on constraint role_permissions_pkey do nothing;

create or replace function app_private.record_image(
  tenant_id uuid, uploaded_by uuid, sha256 text, content_type text, size integer,
  out id uuid, out created boolean
)
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  -- One statement, so two uploads of the same bytes at once both get the row: the no-op update
  -- returns the existing one, and xmax = 0 tells a fresh insert.
  insert into app_public.images as i (tenant_id, sha256, content_type, size, uploaded_by)
    values (record_image.tenant_id, record_image.sha256, record_image.content_type, record_image.size,
            record_image.uploaded_by)
    on conflict (tenant_id, sha256) do update set sha256 = i.sha256
    returning i.id, (i.xmax = 0);
$$;
comment on function app_private.record_image(uuid, uuid, text, text, integer) is
  E'@module media\n'
  'The tenant''s record of uploaded bytes (by SHA-256): a new row (created) or the one it already had.';

alter table app_public.images drop constraint if exists images_tenant_id_uploaded_by_fkey;
alter table app_public.images add constraint images_tenant_id_uploaded_by_fkey
  foreign key (tenant_id, uploaded_by) references app_public.users (tenant_id, id) on delete set null (uploaded_by);
comment on constraint images_tenant_id_uploaded_by_fkey on app_public.images is
  E'@behavior -*\nThe uploader belongs to the image''s tenant.';
create index if not exists images_uploaded_by_tenant_idx on app_public.images (uploaded_by, tenant_id);
drop index if exists app_public.images_uploaded_by_idx;

do $$
begin
  if exists (select 1 from pg_policies p where p.schemaname = 'app_public'
             and p.tablename = 'images' and p.policyname = 'select_own_tenant') then
    alter policy select_own_tenant on app_public.images rename to select_member;
  end if;
end
$$;

comment on table app_public.images is
  E'@module media\n@behavior -insert -update -delete\n'
  'An image uploaded by the tenant; served to anyone holding its URL /api/images/<id>. The bytes are stored '
  'once by SHA-256, whichever tenants uploaded them.';
