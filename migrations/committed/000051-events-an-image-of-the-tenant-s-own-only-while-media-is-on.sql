--! Previous: sha1:eaf3ddb334c23afdb31866eca0644968710b0696
--! Hash: sha1:2c2a99b4d5e97e6f1befe3985ebb291439873fb7
--! Message: Events: an image of the tenant's own only while media is on

--! split: 050-events.sql
-- Events: an event's image of the tenant's own (/api/images/<id>) only while media is switched on,
-- as for messages, products and broadcasts (migration 000050): its images are invisible then, and
-- this check, a security definer, had read past that.

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
Before insert/update of an events image: https:// URL or /api/images/<id> of an image of the events tenant, while the tenant has media switched on (VALIDATION_FAILED otherwise).';
