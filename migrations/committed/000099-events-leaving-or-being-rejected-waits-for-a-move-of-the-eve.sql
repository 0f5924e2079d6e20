--! Previous: sha1:e9a5437840f6d44aacec5322f11801b136edc0bc
--! Hash: sha1:e7c70b4b6af00fcf8b50272be555884ea4481cf7
--! Message: Events: leaving or being rejected waits for a move of the event, and a move for them: no reminder put back for a participant gone

--! split: 050-events.sql
-- Leaving and being rejected wait for a move of the event in progress (and a move waits for them):
-- each takes the event row FOR SHARE, which the move's update of starts_at holds exclusively. A move
-- reads the participants whose reminders it moves after its update; a leave committing meanwhile
-- was still read, and its reminder job, just removed, was added back for a participant gone.
create or replace function app_public.leave_event(event_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  perform app_private.assert_module_access('events');
  perform from app_public.events e
    where e.id = leave_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
    for share;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  delete from app_public.event_participants p
    where p.event_id = leave_event.event_id and p.user_id = app_public.current_user_id() and p.status = 'PARTICIPATING'
      and p.tenant_id = app_public.current_tenant_id();
  if not found then
    raise exception 'You do not take part in this event' using errcode = 'TNFND';
  end if;
  return true;
end;
$function$;
comment on function app_public.leave_event(uuid) is '@module events
@resultFieldName left
Stops taking part; the reminder is cancelled. A cancelled event is NOT_FOUND, as for joining.';

create or replace function app_public.reject_participant(event_id uuid, user_id uuid)
 RETURNS app_public.event_participants
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_participant app_public.event_participants;
  v_cancelled boolean;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  select e.rejected_at is not null into v_cancelled from app_public.events e
    where e.id = reject_participant.event_id and e.tenant_id = app_public.current_tenant_id()
    for share;
  if v_cancelled then
    raise exception 'The event is cancelled: its participants stay as they were' using errcode = 'TCONF',
      detail = json_build_object('reason', 'EVENT_CANCELLED')::text;
  end if;
  update app_public.event_participants p set status = 'REJECTED'
    where p.event_id = reject_participant.event_id and p.user_id = reject_participant.user_id
      and p.tenant_id = app_public.current_tenant_id()
    returning * into v_participant;
  if v_participant.id is null then
    raise exception 'No such participant' using errcode = 'TNFND';
  end if;
  return v_participant;
end;
$function$;
comment on function app_public.reject_participant(uuid,uuid) is '@module events
@resultFieldName participant
Removes someone from an event (needs events.manage); they cannot join again. A cancelled event is a CONFLICT (details.reason EVENT_CANCELLED).';
