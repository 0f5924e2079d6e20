--! Previous: sha1:d2925ec0e256268ddb48b2769470871ec7a982b4
--! Hash: sha1:9c5fdb21f7b547fc9e82eb96e64f3f4913244f79
--! Message: Events: no reminder while the module is off or once the event has begun; a cancelled event's participants stay; a deleted user's places are given back

--! split: 050-events.sql
-- A reminder is sent only while the events module is on and the event has not begun. It fell due
-- with the module switched off (the rows hidden, every other event action refused) and still
-- notified and e-mailed; an event moved to a start in the past had its reminder sent at once, for
-- an event already over. Such a reminder now sends nothing and is not spent: the participant is
-- still to be reminded if the event moves again.
create or replace function app_private.send_event_reminder(participant_id uuid) returns boolean
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_user app_public.users;
  v_participant app_public.event_participants;
  v_notice record;
begin
  if not exists (
    select 1 from app_public.event_participants p join app_public.events e on e.id = p.event_id
    where p.id = send_event_reminder.participant_id and e.starts_at > now()
      and app_private.tenant_module_enabled(e.tenant_id, 'events')
  ) then
    return false;
  end if;
  update app_public.event_participants p set reminder_queued_at = now()
    where p.id = send_event_reminder.participant_id and p.reminder_queued_at is null and p.status = 'PARTICIPATING'
    returning * into v_participant;
  if v_participant.id is null then
    return false;
  end if;
  select * into v_event from app_public.events e where e.id = v_participant.event_id;
  select * into v_user from app_public.users u where u.id = v_participant.user_id;
  if v_event.rejected_at is not null or v_user.deleted_at is not null then
    return false;
  end if;
  select * into v_notice from app_private.event_notice('event_reminder', v_event);
  insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, cta_url, cta_label, subject_id)
    values (v_event.tenant_id, v_user.id, 'event_reminder', v_notice.title, v_notice.content,
            '/events/' || v_event.id, 'Open event', v_event.id)
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing;
  if not found then
    return false;
  end if;
  if app_private.events_email_enabled(v_event.tenant_id) then
    perform app_private.enqueue_job('send_email', json_build_object(
      'template', 'event_reminder', 'to', v_user.email, 'tenantId', v_event.tenant_id,
      'data', json_build_object('title', v_notice.title, 'content', v_notice.content)));
  end if;
  return true;
end;
$$;
comment on function app_private.send_event_reminder(uuid) is '@module events
The reminder task: notifies the participant and e-mails them (when the tenant wants e-mails); idempotent, the participant row records the delivery. False when there is nothing (more) to send, or nothing yet: the events module off, or the event already begun (the reminder is not spent).';

-- A cancelled event is final for its participants too: leaving one deleted the row (the member
-- had been told of the cancellation as a participant), and a manager could still remove someone.
-- Leaving is NOT_FOUND, as joining is (a cancelled event is gone for members); removing a
-- participant is CONFLICT (EVENT_CANCELLED), as changing the event is.
create or replace function app_public.leave_event(event_id uuid) returns boolean
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access('events');
  if not exists (
    select 1 from app_public.events e
    where e.id = leave_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
  ) then
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
$$;
comment on function app_public.leave_event(uuid) is '@module events
@resultFieldName left
Stops taking part; the reminder is cancelled. A cancelled event is NOT_FOUND, as for joining.';

create or replace function app_public.reject_participant(event_id uuid, user_id uuid) returns app_public.event_participants
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_participant app_public.event_participants;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  if exists (
    select 1 from app_public.events e
    where e.id = reject_participant.event_id and e.tenant_id = app_public.current_tenant_id()
      and e.rejected_at is not null
  ) then
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
$$;
comment on function app_public.reject_participant(uuid,uuid) is '@module events
@resultFieldName participant
Removes someone from an event (needs events.manage); they cannot join again. A cancelled event is a CONFLICT (details.reason EVENT_CANCELLED).';

-- A deleted user gives their places back: their participations held a seat of a full event for
-- good, and their reminders still ran. Deleting the rows removes the reminder jobs (_500_reminder).
create or replace function app_private.tg_users__leave_events() returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  delete from app_public.event_participants p where p.user_id = new.id and p.status = 'PARTICIPATING';
  return null;
end;
$$;
comment on function app_private.tg_users__leave_events() is '@module events
A user deleted: their participations end, their places and reminders with them.';
revoke all on function app_private.tg_users__leave_events() from public;
drop trigger if exists _500_leave_events on app_public.users;
create trigger _500_leave_events after update of deleted_at on app_public.users
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function app_private.tg_users__leave_events();
