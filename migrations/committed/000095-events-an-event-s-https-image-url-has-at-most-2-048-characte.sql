--! Previous: sha1:5d1b19ad1e447b8171fc31df0ca322bf8c1f746a
--! Hash: sha1:a38b8fd328b3e604e99e5d5824bb7be5ec83fd71
--! Message: events: an event's https image URL has at most 2,048 characters

--! split: 050-events.sql
-- An event's https:// image URL has at most 2,048 characters (a 90 kB one was stored).
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
  if new.image ~ '^https://\S+$' and length(new.image) <= 2048 then
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
  raise exception 'An event image is an https:// URL (at most 2,048 characters) or /api/images/<id> of an image this tenant uploaded'
    using errcode = 'TVALD', detail = '{"field":"image"}';
end;
$function$;
comment on function app_private.check_event_image() is '@module events
Before insert/update of an events image: https:// URL (at most 2,048 characters) or /api/images/<id> (stored in lower case) of an image of the events tenant, while the tenant has media switched on (VALIDATION_FAILED otherwise).';
