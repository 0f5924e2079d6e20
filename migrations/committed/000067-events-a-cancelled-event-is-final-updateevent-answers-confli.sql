--! Previous: sha1:5c4855f2cfb463a2727daf6a67b6e06c2ef49485
--! Hash: sha1:b6109e4127a6e4ca9d5595663225aef320bd8c8a
--! Message: Events: a cancelled event is final, updateEvent answers CONFLICT reason EVENT_CANCELLED

--! split: 050-events.sql
-- A cancelled event is final: updateEvent refuses it (CONFLICT, details.reason EVENT_CANCELLED). It had
-- renamed or moved an event its participants had been told was cancelled.
create or replace function app_public.update_event(event_id uuid, name text DEFAULT NULL::text, starts_at timestamp with time zone DEFAULT NULL::timestamp with time zone, ends_at timestamp with time zone DEFAULT NULL::timestamp with time zone, short_description text DEFAULT NULL::text, description text DEFAULT NULL::text, location text DEFAULT NULL::text, image text DEFAULT NULL::text, payment_info text DEFAULT NULL::text, max_participants_count integer DEFAULT NULL::integer, clear app_public.event_optional_field[] DEFAULT NULL::app_public.event_optional_field[])
 RETURNS app_public.events
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_event app_public.events;
  v_participants integer;
  v_clear app_public.event_optional_field[] := coalesce(update_event.clear, '{}');
  v_both text;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  if array_position(v_clear, null) is not null then
    raise exception 'clear names no field with a null' using errcode = 'TVALD',
      detail = json_build_object('field', 'clear', 'reason', 'NULL_ITEM')::text;
  end if;
  select f.label into v_both from unnest(v_clear) f(label)
    where (f.label = 'SHORT_DESCRIPTION' and update_event.short_description is not null)
       or (f.label = 'DESCRIPTION' and update_event.description is not null)
       or (f.label = 'LOCATION' and update_event.location is not null)
       or (f.label = 'IMAGE' and update_event.image is not null)
       or (f.label = 'PAYMENT_INFO' and update_event.payment_info is not null)
       or (f.label = 'MAX_PARTICIPANTS_COUNT' and update_event.max_participants_count is not null)
    limit 1;
  if v_both is not null then
    raise exception 'A field cannot be both given and cleared' using errcode = 'TVALD',
      detail = json_build_object('field', 'clear', 'reason', 'GIVEN_AND_CLEARED', 'value', v_both)::text;
  end if;
  if update_event.max_participants_count < 1 then
    raise exception 'maxParticipantsCount must be at least 1' using errcode = 'TVALD',
      detail = json_build_object('field', 'maxParticipantsCount', 'reason', 'TOO_SMALL')::text;
  end if;
  select * into v_event from app_public.events e
    where e.id = update_event.event_id and e.tenant_id = app_public.current_tenant_id()
    for update;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  -- A cancelled event is final: its participants were told, its reminders removed.
  if v_event.rejected_at is not null then
    raise exception 'The event is cancelled: it cannot be changed' using errcode = 'TCONF',
      detail = json_build_object('reason', 'EVENT_CANCELLED')::text;
  end if;
  if update_event.max_participants_count is not null then
    select count(*)::integer into v_participants from app_public.event_participants p
      where p.event_id = v_event.id and p.status = 'PARTICIPATING';
    if update_event.max_participants_count < v_participants then
      raise exception 'The event already has % participants: its capacity cannot be lower', v_participants
        using errcode = 'TCONF',
              detail = json_build_object('reason', 'CAPACITY_BELOW_PARTICIPANTS', 'participantsCount', v_participants,
                                         'maxParticipantsCount', update_event.max_participants_count)::text;
    end if;
  end if;
  update app_public.events e set
    name = coalesce(update_event.name, e.name),
    starts_at = coalesce(update_event.starts_at, e.starts_at),
    ends_at = coalesce(update_event.ends_at, e.ends_at),
    short_description = case when 'SHORT_DESCRIPTION' = any (v_clear) then null
                             else coalesce(update_event.short_description, e.short_description) end,
    description = case when 'DESCRIPTION' = any (v_clear) then null
                       else coalesce(update_event.description, e.description) end,
    location = case when 'LOCATION' = any (v_clear) then null else coalesce(update_event.location, e.location) end,
    image = case when 'IMAGE' = any (v_clear) then null else coalesce(update_event.image, e.image) end,
    payment_info = case when 'PAYMENT_INFO' = any (v_clear) then null
                        else coalesce(update_event.payment_info, e.payment_info) end,
    max_participants_count = case when 'MAX_PARTICIPANTS_COUNT' = any (v_clear) then null
                                  else coalesce(update_event.max_participants_count, e.max_participants_count) end
  where e.id = v_event.id
  returning * into v_event;
  return v_event;
end;
$function$;
comment on function app_public.update_event(uuid,text,timestamp with time zone,timestamp with time zone,text,text,text,text,text,integer,app_public.event_optional_field[]) is '@module events
@resultFieldName event
Changes an event (needs events.manage); omitted fields keep their value. `clear` names the optional fields to empty (an unlimited capacity, no image, no text); an optional text that shows nothing (an empty string) clears it too, and a field both given and cleared is VALIDATION_FAILED. Moving it moves the reminders. A capacity below 1 is VALIDATION_FAILED; one below the current number of participants is refused (CONFLICT, details.reason CAPACITY_BELOW_PARTICIPANTS). A cancelled event cannot be changed (CONFLICT, details.reason EVENT_CANCELLED).';
