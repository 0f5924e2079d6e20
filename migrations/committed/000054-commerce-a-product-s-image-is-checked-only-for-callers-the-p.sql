--! Previous: sha1:3ebd426c2358ee86271e89ffbb17f559beffbe0f
--! Hash: sha1:564f191af5db0d07a60a7361c648fa00e61cb5a6
--! Message: Commerce: a product's image is checked only for callers the policies let write products (members are refused by the policy first)

--! split: 070-commerce.sql
-- Commerce: a product's picture is checked only for a caller the policies let write products, so a
-- member (or a tenant with commerce off) is refused by the policy first, as before the image check.
create or replace function app_private.tg_products__image_visible()
  returns trigger
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if tg_op = 'UPDATE' and new.image_sha256 is not distinct from old.image_sha256 then
    return new;
  end if;
  if app_public.current_user_id() is not null and not (
       app_public.tenant_module_enabled('commerce') and app_public.current_user_has_permission('catalog.manage')) then
    return new; -- the policy refuses the write
  end if;
  perform app_private.assert_image_usable(new.tenant_id, new.image_sha256);
  return new;
end;
$$;
comment on function app_private.tg_products__image_visible() is E'@module commerce\n'
  'Before a request gives a product a picture: an image the tenant uploaded, while media is switched on '
  '(VALIDATION_FAILED, NO_SUCH_IMAGE); checked once the caller may write products at all (the policy '
  'refuses the others first).';
