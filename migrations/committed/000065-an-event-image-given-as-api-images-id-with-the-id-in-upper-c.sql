--! Previous: sha1:6b3dbb0078e1f0d3abb59d510c57da0f1bdb4edf
--! Hash: sha1:820bc036140fb3a2c2e49a2d3f550717c017dd4f
--! Message: An event image given as /api/images/<id> with the id in upper case is accepted and stored in lower case, as its URL serves it in either case

--! split: 050-events.sql
-- An event image given as /api/images/<ID> in upper case is the image its URL serves: stored in lower case.
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
  if new.image ~ '^https://\S+$' then
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
  raise exception 'An event image is an https:// URL or /api/images/<id> of an image this tenant uploaded'
    using errcode = 'TVALD', detail = '{"field":"image"}';
end;
$function$;
comment on function app_private.check_event_image() is '@module events
Before insert/update of an events image: https:// URL or /api/images/<id> (stored in lower case) of an image of the events tenant, while the tenant has media switched on (VALIDATION_FAILED otherwise).';
