--------------------------------------------------------------------------------------------------
-- Images: per-tenant records over a shared, content-addressed byte store. A tenant's upload is a
-- row of its own (its unguessable id is the capability URL /api/images/<id>); the same bytes
-- uploaded by several tenants are stored once, but no tenant can tell that another holds them.

create table if not exists app_public.images (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text check (content_type in ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
  size integer check (size > 0),
  uploaded_by uuid references app_public.users on delete set null,
  created_at timestamptz not null default now(),
  constraint images_tenant_sha256_key unique (tenant_id, sha256)
);
create index if not exists images_uploaded_by_idx on app_public.images (uploaded_by);
alter table app_public.images enable row level security;
drop policy if exists select_own_tenant on app_public.images;
create policy select_own_tenant on app_public.images for select using (tenant_id = (select app_public.current_tenant_id()));
-- Rows are written by the upload route (owner role) with the tenant and user of the verified session.
revoke all on app_public.images from :DATABASE_VISITOR;
grant select on app_public.images to :DATABASE_VISITOR;
comment on table app_public.images is E'@behavior -insert -update -delete\nAn image uploaded by the tenant; served to anyone holding its URL /api/images/<id>. The bytes are stored once by SHA-256, whichever tenants uploaded them.';
comment on column app_public.images.id is 'Unguessable: the secret of the image''s public URL /api/images/<id>.';
comment on column app_public.images.sha256 is 'SHA-256 of the bytes, their key in the shared store.';
comment on column app_public.images.content_type is 'The type sniffed from the bytes at upload (null for records made from links older than this table).';
comment on column app_public.images.size is 'Bytes (null for records made from links older than this table).';

-- Event images link to a tenant's image record, no longer to the bytes' hash. Links of the former
-- form /api/images/<sha256> become records of the event's tenant, so they keep working.
insert into app_public.images (tenant_id, sha256, uploaded_by)
  select distinct on (e.tenant_id, substr(e.image, 13)) e.tenant_id, substr(e.image, 13), e.created_by
  from app_public.events e
  where e.image ~ '^/api/images/[0-9a-f]{64}$'
  order by e.tenant_id, substr(e.image, 13), e.created_at
on conflict (tenant_id, sha256) do nothing;
alter table app_public.events drop constraint if exists events_image_check;
update app_public.events e set image = '/api/images/' || i.id
  from app_public.images i
  where e.image ~ '^/api/images/[0-9a-f]{64}$' and i.tenant_id = e.tenant_id and i.sha256 = substr(e.image, 13);
alter table app_public.events add constraint events_image_check
  check (image ~ '^(https?://\S+|/api/images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$');
comment on column app_public.events.image is 'An image URL, or /api/images/<id> of an image uploaded by the tenant.';
