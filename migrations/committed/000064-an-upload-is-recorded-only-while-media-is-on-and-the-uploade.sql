--! Previous: sha1:1f1c0fd7511786aade6990cfe876d0f51a844706
--! Hash: sha1:6b3dbb0078e1f0d3abb59d510c57da0f1bdb4edf
--! Message: An upload is recorded only while media is on and the uploader holds images.upload, checked in the recording statement; API keys disappear with commerce switched off

--! split: 060-media.sql
-- An upload is recorded only while the media module is on and the uploader holds images.upload,
-- checked in the statement that records it: the check made before the body was read could be
-- minutes old once a slow upload ended, and a module switched off meanwhile still took the image.
create or replace function app_private.record_image(tenant_id uuid, uploaded_by uuid, sha256 text,
                                                    content_type text, size integer,
                                                    out id uuid, out created boolean)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access(record_image.uploaded_by, record_image.tenant_id, 'media',
                                           'images.upload');
  -- One statement, so two uploads of the same bytes at once both get the row: the no-op update
  -- returns the existing one, and xmax = 0 tells a fresh insert.
  insert into app_public.images as i (tenant_id, sha256, content_type, size, uploaded_by)
    values (record_image.tenant_id, record_image.sha256, record_image.content_type, record_image.size,
            record_image.uploaded_by)
    on conflict on constraint images_tenant_sha256_key do update set sha256 = i.sha256
    returning i.id, (i.xmax = 0) into record_image.id, record_image.created;
end;
$$;
comment on function app_private.record_image(uuid, uuid, text, text, integer) is
  E'@module media\n'
  'The tenant''s record of uploaded bytes (by SHA-256): a new row (created) or the one it already had. '
  'FORBIDDEN when the media module is off for the tenant or the uploader lacks images.upload, as it '
  'stands when the upload ends.';

--! split: 070-commerce.sql
-- API keys are commerce's: with the module off, their list disappears as the module's other rows do
-- (the keys could not be created or revoked then, but were still listed).
drop policy if exists select_apikeys_manage on app_public.api_keys;
create policy select_apikeys_manage on app_public.api_keys for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id())
  and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('apikeys.manage')));
