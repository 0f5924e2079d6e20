--! Previous: sha1:f6ef548736220bfbe57d194ba0ee79a661214252
--! Hash: sha1:dbf832c4fd2d323cdfac92e6f2bf5793a8782f82
--! Message: Performance: a cancellation notifies in batches of 100 and removes the reminder jobs after everyone is told

--! split: 1-current.sql
-- Enter migration here

--! split: 2-event-cancellation-fanout.sql
--------------------------------------------------------------------------------------------------
-- events: a cancellation reaches the participants first, and its reminder jobs are removed after.
-- A reminder of a cancelled event does nothing (send_event_reminder checks rejected_at), so its
-- removal is tidying: it no longer stands in each notification batch's transaction, between the
-- mutation and the last participant's notification.

create or replace function app_private.notify_event_cancelled(event_id uuid, after_user_id uuid, batch_size integer)
  returns uuid
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_notice record;
  v_last uuid;
  v_recipients text[];
begin
  select * into v_event from app_public.events e where e.id = notify_event_cancelled.event_id;
  select * into v_notice from app_private.event_notice('event_cancelled', v_event);
  with batch as (
    select u.id as user_id, u.email
    from app_public.event_participants p join app_public.users u on u.id = p.user_id
    where p.event_id = v_event.id and p.status = 'PARTICIPATING' and u.deleted_at is null
      and (notify_event_cancelled.after_user_id is null or u.id > notify_event_cancelled.after_user_id)
    order by u.id
    limit notify_event_cancelled.batch_size
  ), notified as (
    -- A retried batch finds its notifications already there and e-mails nobody twice.
    insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, subject_id)
    select v_event.tenant_id, b.user_id, 'event_cancelled', v_notice.title, v_notice.content, v_event.id
    from batch b
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing
    returning recipient_id
  )
  select max(b.user_id::text)::uuid,
         array_agg(b.email order by b.user_id) filter (where b.user_id in (select recipient_id from notified))
    into v_last, v_recipients
  from batch b;
  if v_last is null then
    return null;
  end if;
  if app_private.events_email_enabled(v_event.tenant_id) and cardinality(v_recipients) > 0 then
    perform app_private.enqueue_job('send_email', json_build_object(
      'template', 'event_cancelled', 'to', v_recipients, 'tenantId', v_event.tenant_id,
      'data', json_build_object('title', v_notice.title, 'content', v_notice.content)),
      job_key => 'event_cancelled_email:' || v_event.id || ':' || v_last);
  end if;
  return v_last;
end;
$$;
comment on function app_private.notify_event_cancelled(uuid, uuid, integer) is
  E'@module events\n'
  'Notifies one batch of an event''s participants of its cancellation; returns the last user id of the batch '
  '(null when done). The reminders are removed afterwards (remove_event_reminders).';

drop function if exists app_private.remove_event_reminders(uuid, uuid, integer);
create function app_private.remove_event_reminders(event_id uuid, after_participant_id uuid, batch_size integer)
  returns uuid
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_participant uuid;
  v_last uuid;
begin
  for v_participant in
    select p.id from app_public.event_participants p
    where p.event_id = remove_event_reminders.event_id
      and (remove_event_reminders.after_participant_id is null or p.id > remove_event_reminders.after_participant_id)
    order by p.id
    limit remove_event_reminders.batch_size
  loop
    perform app_private.remove_job('event_reminder:' || v_participant);
    v_last := v_participant;
  end loop;
  return v_last;
end;
$$;
comment on function app_private.remove_event_reminders(uuid, uuid, integer) is
  E'@module events\n'
  'Removes the pending reminder jobs of one batch of an event''s participants (keyset by participant id); '
  'returns the last participant id of the batch (null when done).';
