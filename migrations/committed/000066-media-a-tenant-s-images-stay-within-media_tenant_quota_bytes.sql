--! Previous: sha1:820bc036140fb3a2c2e49a2d3f550717c017dd4f
--! Hash: sha1:5c4855f2cfb463a2727daf6a67b6e06c2ef49485
--! Message: Media: a tenant's images stay within MEDIA_TENANT_QUOTA_BYTES (STORAGE_QUOTA_EXCEEDED, TQUOT), checked before the bytes are stored and again in record_image under a per-tenant advisory lock

--! split: 060-media.sql
-- A tenant's images have a storage quota (MEDIA_TENANT_QUOTA_BYTES, passed by the upload route):
-- the sizes of its image records add up to at most that. Bytes it already has cost nothing again.
-- Past it an upload is STORAGE_QUOTA_EXCEEDED (TQUOT), checked once the body is in, before the
-- bytes are stored, and again where the record is written, a tenant's records one at a time, so
-- parallel uploads cannot pass it together.
create or replace function app_private.image_quota_problem(tenant_id uuid, sha256 text, size bigint, quota bigint)
  returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_used bigint;
begin
  if exists (select 1 from app_public.images i
             where i.tenant_id = image_quota_problem.tenant_id and i.sha256 = image_quota_problem.sha256) then
    return;
  end if;
  select coalesce(sum(i.size), 0) into v_used from app_public.images i where i.tenant_id = image_quota_problem.tenant_id;
  if v_used + image_quota_problem.size > image_quota_problem.quota then
    raise exception 'The tenant''s images would exceed its storage quota of % bytes', image_quota_problem.quota
      using errcode = 'TQUOT',
            detail = json_build_object('quotaBytes', image_quota_problem.quota, 'usedBytes', v_used,
                                       'size', image_quota_problem.size)::text;
  end if;
end;
$$;
comment on function app_private.image_quota_problem(uuid, text, bigint, bigint) is
  E'@module media\n'
  'STORAGE_QUOTA_EXCEEDED (TQUOT, details quotaBytes, usedBytes, size) when new bytes of this size would take '
  'the tenant''s image records past the quota; bytes the tenant already has pass.';

create or replace function app_private.assert_may_upload_image(user_id uuid, tenant_id uuid, sha256 text,
                                                               size bigint, quota bigint)
  returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access(assert_may_upload_image.user_id, assert_may_upload_image.tenant_id,
                                           'media', 'images.upload');
  if assert_may_upload_image.sha256 is not null then
    perform app_private.image_quota_problem(assert_may_upload_image.tenant_id, assert_may_upload_image.sha256,
                                            assert_may_upload_image.size, assert_may_upload_image.quota);
  end if;
end;
$$;
comment on function app_private.assert_may_upload_image(uuid, uuid, text, bigint, bigint) is
  E'@module media\n'
  'The upload route''s checks: the media module on and the images.upload permission (FORBIDDEN), and, given '
  'the bytes'' hash and size, room in the tenant''s quota (STORAGE_QUOTA_EXCEEDED).';

drop function if exists app_private.record_image(uuid, uuid, text, text, integer);
create or replace function app_private.record_image(tenant_id uuid, uploaded_by uuid, sha256 text,
                                                    content_type text, size integer, quota bigint,
                                                    out id uuid, out created boolean)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access(record_image.uploaded_by, record_image.tenant_id, 'media',
                                           'images.upload');
  -- A tenant's records are written one at a time, so that each sees the others' sizes.
  perform pg_advisory_xact_lock(hashtextextended('app_public.images of ' || record_image.tenant_id, 0));
  perform app_private.image_quota_problem(record_image.tenant_id, record_image.sha256, record_image.size,
                                          record_image.quota);
  -- One statement, so two uploads of the same bytes at once both get the row: the no-op update
  -- returns the existing one, and xmax = 0 tells a fresh insert.
  insert into app_public.images as i (tenant_id, sha256, content_type, size, uploaded_by)
    values (record_image.tenant_id, record_image.sha256, record_image.content_type, record_image.size,
            record_image.uploaded_by)
    on conflict on constraint images_tenant_sha256_key do update set sha256 = i.sha256
    returning i.id, (i.xmax = 0) into record_image.id, record_image.created;
end;
$$;
comment on function app_private.record_image(uuid, uuid, text, text, integer, bigint) is
  E'@module media\n'
  'The tenant''s record of uploaded bytes (by SHA-256): a new row (created) or the one it already had. '
  'FORBIDDEN when the media module is off for the tenant or the uploader lacks images.upload, as it '
  'stands when the upload ends; STORAGE_QUOTA_EXCEEDED when new bytes would take the tenant past quota.';
