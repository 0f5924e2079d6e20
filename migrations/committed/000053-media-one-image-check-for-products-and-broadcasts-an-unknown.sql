--! Previous: sha1:1d2a3bfe335a6783d47b9d4941c74c5e6e9d877c
--! Hash: sha1:3ebd426c2358ee86271e89ffbb17f559beffbe0f
--! Message: Media: one image check for products and broadcasts; an unknown hash is NO_SUCH_IMAGE on imageSha256, as while media is off

--! split: 060-media.sql
-- One check for every table that takes an image by its hash (products, broadcasts): a request gives
-- only an image its tenant uploaded, and only while media is switched on (its images are invisible
-- then). Both answer NO_SUCH_IMAGE on the field: an unknown hash had reached the foreign key, whose
-- refusal named the constraint instead, and told a client whether media was on.
create or replace function app_private.assert_image_usable(tenant_id uuid, sha256 text) returns void
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  -- The worker and the owner's scripts are not held to the tenant's switches (the foreign key still
  -- holds them to the tenant's images); another tenant's row is the policy's to refuse.
  if assert_image_usable.sha256 is null or app_public.current_user_id() is null
     or assert_image_usable.tenant_id is distinct from app_public.current_tenant_id() then
    return;
  end if;
  if not app_private.tenant_module_enabled(assert_image_usable.tenant_id, 'media') or not exists (
       select 1 from app_public.images i
       where i.tenant_id = assert_image_usable.tenant_id and i.sha256 = assert_image_usable.sha256) then
    raise exception 'No such image' using errcode = 'TVALD',
      detail = json_build_object('field', 'imageSha256', 'reason', 'NO_SUCH_IMAGE')::text;
  end if;
end;
$$;
comment on function app_private.assert_image_usable(uuid, text) is E'@module media\n'
  'In a request: the image (its sha256) is one the tenant uploaded, and media is switched on; else '
  'VALIDATION_FAILED (field imageSha256, reason NO_SUCH_IMAGE).';

--! split: 070-commerce.sql
-- Commerce: a product's picture is checked by the media module's one image check.
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
  perform app_private.assert_image_usable(new.tenant_id, new.image_sha256);
  return new;
end;
$$;
comment on function app_private.tg_products__image_visible() is E'@module commerce\n'
  'Before a request gives a product a picture: an image the tenant uploaded, while media is switched on '
  '(VALIDATION_FAILED, NO_SUCH_IMAGE).';

--! split: 090-broadcasts.sql
-- Broadcasts: the image is checked by the media module's one image check (an unknown hash was the
-- foreign key's refusal).
create or replace function app_private.tg_broadcasts__check()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  if app_public.current_user_id() is not null then
    perform app_private.assert_module_access('broadcasts', 'broadcasts.manage');
    -- The bots and customers a broadcast goes to are the store's: with commerce off, there is none.
    perform app_private.assert_module_access('commerce', 'broadcasts.manage');
  elsif new.tenant_id is null then
    -- A request without a user (the worker and the owner's scripts always name the tenant).
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  -- What a request may not choose: the counts and the status start at their beginning.
  new.status := 'pending';
  new.total_count := 0; new.pending_count := 0; new.sent_count := 0; new.failed_count := 0; new.blocked_count := 0;
  new.started_at := null; new.completed_at := null; new.cancelled_at := null; new.notified_at := null;
  new.created_at := now(); new.updated_at := now();
  if app_public.current_user_id() is not null and new.tenant_id is distinct from app_public.current_tenant_id() then
    return new; -- another tenant's row: the policy refuses it, telling nothing of that tenant's bots
  end if;
  if not exists (select 1 from app_public.bots b
                 where b.tenant_id = new.tenant_id and b.id = new.bot_id and b.status = 'active') then
    raise exception 'The bot must be an active bot of the store'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'BOT_NOT_ACTIVE')::text;
  end if;
  if not exists (select 1 from app_private.bot_tokens t where t.bot_id = new.bot_id) then
    raise exception 'The bot has no Telegram token yet (setBotToken)'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'NO_BOT_TOKEN')::text;
  end if;
  perform app_private.assert_image_usable(new.tenant_id, new.image_sha256);
  return new;
end;
$function$;
comment on function app_private.tg_broadcasts__check() is E'@module broadcasts\n'
  'Before a broadcast is created: the caller signed in with broadcasts.manage, and commerce switched on for '
  'the tenant (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; '
  'its bot active and with a token, and an image the tenant uploaded while media is on (VALIDATION_FAILED).';
