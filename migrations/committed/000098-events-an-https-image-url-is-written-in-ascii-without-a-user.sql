--! Previous: sha1:652f412377ca80cab3732b9174a48fd032b51c49
--! Hash: sha1:e9a5437840f6d44aacec5322f11801b136edc0bc
--! Message: Events: an https image URL is written in ASCII, without a user name or password

--! split: 050-events.sql
-- An event's https:// image URL is written in ASCII, without a user name or password.
create or replace function app_private.check_event_image()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  if new.image is null then
    return new;
  end if;
  if tg_op = 'UPDATE' and new.image is not distinct from old.image and new.tenant_id is not distinct from old.tenant_id then
    return new;
  end if;
  -- Written in ASCII (a non-ASCII character percent-encoded, an IDN host in punycode), and without
  -- a user name or password: U+202E (right-to-left override) made a URL read as another's, and
  -- https://user@evil.test/ reads as a site it is not.
  if new.image ~ '^https://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][!-~]*)?$'
     and length(new.image) <= 2048 then
    return new;
  end if;
  -- A UUID is read in either case (RFC 9562), as the image's URL serves it: stored as the upload
  -- answered it, in lower case.
  if new.image ~ '^/api/images/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
    new.image := lower(new.image);
  end if;
  -- While media is off its images are invisible: one is as unknown as an id that names none (a
  -- request's; the owner's scripts and the worker are not held to the tenant's switches).
  if new.image ~ '^/api/images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and (app_public.current_user_id() is null or app_private.tenant_module_enabled(new.tenant_id, 'media'))
     and exists (select 1 from app_public.images i where i.id = substr(new.image, 13)::uuid and i.tenant_id = new.tenant_id) then
    return new;
  end if;
  raise exception 'An event image is an https:// URL (in ASCII, no user name or password, at most 2,048 characters) or /api/images/<id> of an image this tenant uploaded'
    using errcode = 'TVALD', detail = '{"field":"image"}';
end;
$function$;
comment on function app_private.check_event_image() is '@module events
Before insert/update of an events image: https:// URL (in ASCII, no user name or password, at most 2,048 characters) or /api/images/<id> (stored in lower case) of an image of the events tenant, while the tenant has media switched on (VALIDATION_FAILED otherwise).';
