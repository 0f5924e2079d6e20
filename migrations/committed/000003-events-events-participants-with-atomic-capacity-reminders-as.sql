--! Previous: sha1:3ff1fd0b3c9c96cec4c488832b81c2f8d4175848
--! Hash: sha1:1d4359e62ab5674cc94a907ff115799416383e21
--! Message: events: events, participants with atomic capacity, reminders as jobs, instant notifications

-- Idempotent while in development.
drop table if exists app_public.instant_notifications, app_public.event_participants, app_public.events, app_private.settings cascade;
drop function if exists app_public.tenant_module_enabled cascade;
drop function if exists app_private.setting cascade;
drop function if exists app_private.enqueue_jobs cascade;
drop function if exists app_private.remove_job cascade;
drop function if exists app_private.schedule_event_reminders cascade;
drop function if exists app_private.notify_users cascade;
drop function if exists app_private.send_event_reminder cascade;
drop function if exists app_private.notify_event_cancelled cascade;
drop function if exists app_public.create_event cascade;
drop function if exists app_public.update_event cascade;
drop function if exists app_public.reject_event cascade;
drop function if exists app_public.join_event cascade;
drop function if exists app_public.leave_event cascade;
drop function if exists app_public.reject_participant cascade;
drop function if exists app_public.search_events cascade;
drop function if exists app_public.ack_notification cascade;
drop function if exists app_public.ack_all_notifications cascade;
drop function if exists app_public.unread_notifications_count cascade;
drop function if exists app_private.assert_events_access cascade;
drop function if exists app_private.events_email_enabled cascade;
drop function if exists app_private.tg_event_participants__reminder cascade;
drop function if exists app_private.tg_events__schedule cascade;
drop function if exists app_private.tg_instant_notifications__notify cascade;
drop function if exists app_public.events_participants_count cascade;
drop function if exists app_public.events_viewer_is_participating cascade;

--------------------------------------------------------------------------------------------------
-- Runtime settings written by the server from its configuration (e.g. EVENT_REMINDER_LEAD_MINUTES),
-- so that triggers can use them.

create table app_private.settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
comment on table app_private.settings is 'Configuration the server writes at start-up for triggers to read.';

create function app_private.setting(key text) returns jsonb
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select s.value from app_private.settings s where s.key = setting.key;
$$;

-- Bulk enqueue: one call (and one NOTIFY) for many jobs; job keys replace pending jobs.
create function app_private.enqueue_jobs(specs graphile_worker.job_spec[]) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if cardinality(enqueue_jobs.specs) > 0 then
    perform graphile_worker.add_jobs(enqueue_jobs.specs);
  end if;
end;
$$;
comment on function app_private.enqueue_jobs(graphile_worker.job_spec[]) is 'Enqueues many jobs in one statement (one NOTIFY at commit instead of one per job).';

create function app_private.remove_job(job_key text) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform graphile_worker.remove_job(remove_job.job_key);
end;
$$;
comment on function app_private.remove_job(text) is 'Cancels the pending job with this key, if any (a running job is left to finish).';

create function app_public.tenant_module_enabled(module text) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_public.tenant_modules tm
    where tm.tenant_id = app_public.current_tenant_id() and tm.module = tenant_module_enabled.module and tm.enabled
  );
$$;
comment on function app_public.tenant_module_enabled(text) is 'True when the current tenant has the module switched on.';

--------------------------------------------------------------------------------------------------
-- Events.

create table app_public.events (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  name text not null check (length(name) between 1 and 200),
  short_description text check (length(short_description) <= 500),
  description text check (length(description) <= 20000),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  image text check (image ~ '^(https?://\S+|/api/images/[0-9a-f]{64})$'),
  payment_info text check (length(payment_info) <= 2000),
  max_participants_count integer check (max_participants_count > 0),
  location text check (length(location) <= 500),
  created_by uuid references app_public.users on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  rejected_at timestamptz,
  rejection_reason text check (length(rejection_reason) <= 1000),
  constraint events_ends_after_start check (ends_at > starts_at)
);
create index events_tenant_starts_idx on app_public.events (tenant_id, starts_at);
create index events_created_by_idx on app_public.events (created_by);
create index events_search_idx on app_public.events using gin (to_tsvector('simple', name || ' ' || coalesce(short_description, '') || ' ' || coalesce(description, '')));
alter table app_public.events enable row level security;
create policy select_visible on app_public.events for select using (
  tenant_id = (select app_public.current_tenant_id())
  and (select app_public.tenant_module_enabled('events'))
  and (rejected_at is null or (select app_public.current_user_has_permission('events.manage')))
);
grant select on app_public.events to :DATABASE_VISITOR;
create trigger _100_timestamps before insert or update on app_public.events
  for each row execute function app_private.tg__timestamps();
comment on table app_public.events is E'@behavior -insert -update -delete\nAn event of the tenant (module `events`). Members see events that are not rejected.';
comment on column app_public.events.image is 'An image URL, or /api/images/<sha256> of an uploaded image.';
comment on column app_public.events.max_participants_count is 'Capacity; null means unlimited.';
comment on column app_public.events.rejected_at is 'When the event was cancelled; cancelled events are visible to managers only.';

create table app_public.event_participants (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  event_id uuid not null references app_public.events on delete cascade,
  user_id uuid not null references app_public.users on delete cascade,
  status text not null default 'PARTICIPATING' check (status in ('PARTICIPATING', 'REJECTED')),
  reminder_queued_at timestamptz,
  created_at timestamptz not null default now(),
  unique (event_id, user_id)
);
create index event_participants_user_idx on app_public.event_participants (user_id);
create index event_participants_tenant_idx on app_public.event_participants (tenant_id);
alter table app_public.event_participants enable row level security;
create policy select_own_or_manager on app_public.event_participants for select using (
  tenant_id = (select app_public.current_tenant_id())
  and (select app_public.tenant_module_enabled('events'))
  and (user_id = (select app_public.current_user_id()) or (select app_public.current_user_has_permission('events.manage')))
);
grant select on app_public.event_participants to :DATABASE_VISITOR;
comment on table app_public.event_participants is E'@behavior -insert -update -delete\nWho takes part in an event. Members see their own participation; managers see all.';
comment on column app_public.event_participants.reminder_queued_at is 'When the reminder for this participant was delivered (notification and e-mail).';

create function app_public.events_participants_count(e app_public.events) returns integer
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select count(*)::integer from app_public.event_participants p where p.event_id = e.id and p.status = 'PARTICIPATING';
$$;
comment on function app_public.events_participants_count(app_public.events) is 'How many people take part.';

create function app_public.events_viewer_is_participating(e app_public.events) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (select 1 from app_public.event_participants p
    where p.event_id = e.id and p.user_id = app_public.current_user_id() and p.status = 'PARTICIPATING');
$$;
comment on function app_public.events_viewer_is_participating(app_public.events) is 'True when the signed-in user takes part.';

-- Checks shared by the event mutations: signed in, module on, permission if asked for.
create function app_private.assert_events_access(permission text default null) returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_public.tenant_module_enabled('events') then
    raise exception 'The events module is switched off for this tenant' using errcode = 'TFORB';
  end if;
  if assert_events_access.permission is not null and not app_public.current_user_has_permission(assert_events_access.permission) then
    raise exception 'This needs the % permission', assert_events_access.permission using errcode = 'TFORB';
  end if;
end;
$$;

create function app_public.create_event(
  name text, starts_at timestamptz, ends_at timestamptz, short_description text default null, description text default null,
  location text default null, image text default null, payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_events_access('events.manage');
  insert into app_public.events (tenant_id, name, starts_at, ends_at, short_description, description, location, image, payment_info, max_participants_count, created_by)
    values (app_public.current_tenant_id(), create_event.name, create_event.starts_at, create_event.ends_at, create_event.short_description,
            create_event.description, create_event.location, create_event.image, create_event.payment_info, create_event.max_participants_count,
            app_public.current_user_id())
    returning * into v_event;
  return v_event;
end;
$$;
comment on function app_public.create_event(text, timestamptz, timestamptz, text, text, text, text, text, integer) is
  E'@resultFieldName event\nCreates an event (needs events.manage).';

create function app_public.update_event(
  event_id uuid, name text default null, starts_at timestamptz default null, ends_at timestamptz default null,
  short_description text default null, description text default null, location text default null, image text default null,
  payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_events_access('events.manage');
  update app_public.events e set
    name = coalesce(update_event.name, e.name),
    starts_at = coalesce(update_event.starts_at, e.starts_at),
    ends_at = coalesce(update_event.ends_at, e.ends_at),
    short_description = coalesce(update_event.short_description, e.short_description),
    description = coalesce(update_event.description, e.description),
    location = coalesce(update_event.location, e.location),
    image = coalesce(update_event.image, e.image),
    payment_info = coalesce(update_event.payment_info, e.payment_info),
    max_participants_count = coalesce(update_event.max_participants_count, e.max_participants_count)
  where e.id = update_event.event_id and e.tenant_id = app_public.current_tenant_id()
  returning * into v_event;
  if v_event.id is null then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  return v_event;
end;
$$;
comment on function app_public.update_event(uuid, text, timestamptz, timestamptz, text, text, text, text, text, integer) is
  E'@resultFieldName event\nChanges an event (needs events.manage); omitted fields keep their value. Moving it moves the reminders.';

create function app_public.reject_event(event_id uuid, reason text default null) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_events_access('events.manage');
  update app_public.events e set rejected_at = now(), rejection_reason = reject_event.reason
    where e.id = reject_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
    returning * into v_event;
  if v_event.id is null then
    raise exception 'No such event, or already cancelled' using errcode = 'TNFND';
  end if;
  return v_event;
end;
$$;
comment on function app_public.reject_event(uuid, text) is E'@resultFieldName event\nCancels an event (needs events.manage); every participant is notified.';

create function app_public.search_events(
  search text default null, starts_after timestamptz default null, starts_before timestamptz default null, upcoming boolean default false
) returns setof app_public.events
  language sql stable
as $$
  select e.* from app_public.events e
  where (search_events.search is null or to_tsvector('simple', e.name || ' ' || coalesce(e.short_description, '') || ' ' || coalesce(e.description, ''))
           @@ websearch_to_tsquery('simple', search_events.search)
         or e.name ilike '%' || search_events.search || '%')
    and (search_events.starts_after is null or e.starts_at >= search_events.starts_after)
    and (search_events.starts_before is null or e.starts_at < search_events.starts_before)
    and (not coalesce(search_events.upcoming, false) or e.starts_at > now())
$$;
comment on function app_public.search_events(text, timestamptz, timestamptz, boolean) is
  E'@behavior +order +filter\nEvents matching a text search (name and descriptions), a start range, and/or only upcoming ones.';

--------------------------------------------------------------------------------------------------
-- Participation: capacity is enforced under a row lock on the event, so concurrent joins can
-- never exceed it.

create function app_public.join_event(event_id uuid) returns app_public.event_participants
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participant app_public.event_participants;
begin
  perform app_private.assert_events_access();
  select * into v_event from app_public.events e
    where e.id = join_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
    for update;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  if v_event.starts_at <= now() then
    raise exception 'The event has already started' using errcode = 'TVALD';
  end if;
  select * into v_participant from app_public.event_participants p
    where p.event_id = v_event.id and p.user_id = app_public.current_user_id();
  if found then
    if v_participant.status = 'REJECTED' then
      raise exception 'You were removed from this event' using errcode = 'TFORB';
    end if;
    return v_participant;
  end if;
  if v_event.max_participants_count is not null and
     (select count(*) from app_public.event_participants p where p.event_id = v_event.id and p.status = 'PARTICIPATING') >= v_event.max_participants_count then
    raise exception 'The event is full' using errcode = 'TEFUL';
  end if;
  insert into app_public.event_participants (tenant_id, event_id, user_id)
    values (v_event.tenant_id, v_event.id, app_public.current_user_id())
    returning * into v_participant;
  return v_participant;
end;
$$;
comment on function app_public.join_event(uuid) is E'@resultFieldName participant\nTakes part in an event; EVENT_FULL when no place is left. Schedules your reminder.';

create function app_public.leave_event(event_id uuid) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_events_access();
  delete from app_public.event_participants p
    where p.event_id = leave_event.event_id and p.user_id = app_public.current_user_id() and p.status = 'PARTICIPATING'
      and p.tenant_id = app_public.current_tenant_id();
  if not found then
    raise exception 'You do not take part in this event' using errcode = 'TNFND';
  end if;
  return true;
end;
$$;
comment on function app_public.leave_event(uuid) is E'@resultFieldName left\nStops taking part; the reminder is cancelled.';

create function app_public.reject_participant(event_id uuid, user_id uuid) returns app_public.event_participants
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_participant app_public.event_participants;
begin
  perform app_private.assert_events_access('events.manage');
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
comment on function app_public.reject_participant(uuid, uuid) is E'@resultFieldName participant\nRemoves someone from an event (needs events.manage); they cannot join again.';

--------------------------------------------------------------------------------------------------
-- Reminders: one job per participant, keyed so that it can be moved or cancelled.

create function app_private.schedule_event_reminders(event_id uuid, participant_id uuid default null) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.enqueue_jobs(coalesce(array_agg(row(
      'event_reminder', json_build_object('participantId', p.id), null,
      e.starts_at - make_interval(mins => coalesce((app_private.setting('event_reminder_lead_minutes'))::text::integer, 1440)),
      null, 'event_reminder:' || p.id, null, null
    )::graphile_worker.job_spec), '{}'))
  from app_public.event_participants p join app_public.events e on e.id = p.event_id
  where p.event_id = schedule_event_reminders.event_id and p.status = 'PARTICIPATING' and p.reminder_queued_at is null
    and e.rejected_at is null
    and (schedule_event_reminders.participant_id is null or p.id = schedule_event_reminders.participant_id);
$$;
comment on function app_private.schedule_event_reminders(uuid, uuid) is
  'Schedules (or moves) the reminder job of one participant, or of every participant of the event, in one bulk enqueue.';

create function app_private.tg_event_participants__reminder() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if tg_op = 'INSERT' and new.status = 'PARTICIPATING' then
    perform app_private.schedule_event_reminders(new.event_id, new.id);
  elsif tg_op = 'DELETE' or (tg_op = 'UPDATE' and new.status <> 'PARTICIPATING') then
    perform app_private.remove_job('event_reminder:' || old.id);
  end if;
  return null;
end;
$$;
create trigger _500_reminder after insert or update of status or delete on app_public.event_participants
  for each row execute function app_private.tg_event_participants__reminder();

create function app_private.tg_events__schedule() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.rejected_at is not null and old.rejected_at is null then
    perform app_private.enqueue_job('event_cancelled', json_build_object('eventId', new.id), job_key => 'event_cancelled:' || new.id);
  elsif new.starts_at is distinct from old.starts_at then
    perform app_private.schedule_event_reminders(new.id);
  end if;
  return null;
end;
$$;
create trigger _500_schedule after update of starts_at, rejected_at on app_public.events
  for each row execute function app_private.tg_events__schedule();

--------------------------------------------------------------------------------------------------
-- Instant notifications, delivered live by `notificationAdded` and optionally by e-mail.

create table app_public.instant_notifications (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  recipient_id uuid not null references app_public.users on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z_]*$'),
  title text not null check (length(title) <= 300),
  content text not null check (length(content) <= 5000),
  cta_url text,
  cta_label text,
  -- What the notification is about (an event id…); one notification per recipient, kind and subject.
  subject_id uuid,
  acked_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index instant_notifications_once_idx on app_public.instant_notifications (recipient_id, kind, subject_id) where subject_id is not null;
create index instant_notifications_recipient_idx on app_public.instant_notifications (recipient_id, created_at desc);
create index instant_notifications_unread_idx on app_public.instant_notifications (recipient_id) where acked_at is null;
create index instant_notifications_tenant_idx on app_public.instant_notifications (tenant_id);
alter table app_public.instant_notifications enable row level security;
create policy select_own on app_public.instant_notifications for select using (recipient_id = (select app_public.current_user_id()));
grant select on app_public.instant_notifications to :DATABASE_VISITOR;
comment on table app_public.instant_notifications is E'@behavior -insert -update -delete\nA message to one user, shown in the app and delivered live.';
comment on column app_public.instant_notifications.kind is 'event_reminder, event_cancelled, …';

create function app_private.tg_instant_notifications__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('user:' || new.recipient_id::text || ':notifications', json_build_object('id', new.id)::text);
  return null;
end;
$$;
create trigger _500_notify after insert on app_public.instant_notifications
  for each row execute function app_private.tg_instant_notifications__notify();

create function app_public.ack_notification(notification_id uuid) returns app_public.instant_notifications
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_row app_public.instant_notifications;
begin
  update app_public.instant_notifications n set acked_at = coalesce(n.acked_at, now())
    where n.id = ack_notification.notification_id and n.recipient_id = app_public.current_user_id()
    returning * into v_row;
  if v_row.id is null then
    raise exception 'No such notification' using errcode = 'TNFND';
  end if;
  return v_row;
end;
$$;
comment on function app_public.ack_notification(uuid) is E'@resultFieldName notification\nMarks one of your notifications as read.';

create function app_public.ack_all_notifications() returns integer
  language sql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  with acked as (
    update app_public.instant_notifications n set acked_at = now()
    where n.recipient_id = app_public.current_user_id() and n.acked_at is null
    returning 1
  )
  select count(*)::integer from acked;
$$;
comment on function app_public.ack_all_notifications() is E'@resultFieldName acked\nMarks all your notifications as read; answers how many.';

create function app_public.unread_notifications_count() returns integer
  language sql stable
as $$
  select count(*)::integer from app_public.instant_notifications n
  where n.recipient_id = app_public.current_user_id() and n.acked_at is null;
$$;
comment on function app_public.unread_notifications_count() is 'How many of your notifications are unread.';

-- Whether the tenant wants e-mail copies of event notifications (events module setting
-- `emailNotifications`, default true).
create function app_private.events_email_enabled(tenant_id uuid) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce((select (tm.settings->>'emailNotifications')::boolean from app_public.tenant_modules tm
                   where tm.tenant_id = events_email_enabled.tenant_id and tm.module = 'events'), true);
$$;

-- The reminder task: idempotent — the participant row records the delivery.
create function app_private.send_event_reminder(participant_id uuid) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_user app_public.users;
  v_participant app_public.event_participants;
begin
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
  insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, cta_url, cta_label, subject_id)
    values (v_event.tenant_id, v_user.id, 'event_reminder', 'Reminder: ' || v_event.name,
            v_event.name || ' starts at ' || to_char(v_event.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
              || coalesce(' at ' || v_event.location, '') || '.',
            '/events/' || v_event.id, 'Open event', v_event.id)
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing;
  if not found then
    return false;
  end if;
  if app_private.events_email_enabled(v_event.tenant_id) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'event_reminder', 'to', v_user.email,
      'data', json_build_object('name', v_event.name, 'startsAt', v_event.starts_at, 'location', v_event.location)));
  end if;
  return true;
end;
$$;

-- Cancellation fan-out for one batch of participants after `after_user_id` (keyset pagination).
-- Notifications are one INSERT; e-mails are one bulk enqueue of one job per batch.
create function app_private.notify_event_cancelled(event_id uuid, after_user_id uuid, batch_size integer) returns uuid
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_last uuid;
  v_recipients text[];
  v_participants uuid[];
begin
  select * into v_event from app_public.events e where e.id = notify_event_cancelled.event_id;
  with batch as (
    select p.id as participant_id, u.id as user_id, u.email
    from app_public.event_participants p join app_public.users u on u.id = p.user_id
    where p.event_id = v_event.id and p.status = 'PARTICIPATING' and u.deleted_at is null
      and (notify_event_cancelled.after_user_id is null or u.id > notify_event_cancelled.after_user_id)
    order by u.id
    limit notify_event_cancelled.batch_size
  ), notified as (
    -- A retried batch finds its notifications already there and e-mails nobody twice.
    insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, subject_id)
    select v_event.tenant_id, b.user_id, 'event_cancelled', 'Cancelled: ' || v_event.name,
           v_event.name || ' has been cancelled' || coalesce(': ' || v_event.rejection_reason, '.'), v_event.id
    from batch b
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing
    returning recipient_id
  )
  select max(b.user_id::text)::uuid,
         array_agg(b.email order by b.user_id) filter (where b.user_id in (select recipient_id from notified)),
         array_agg(b.participant_id)
    into v_last, v_recipients, v_participants
  from batch b;
  if v_last is null then
    return null;
  end if;
  perform app_private.remove_job('event_reminder:' || participant_id) from unnest(v_participants) as participant_id;
  if app_private.events_email_enabled(v_event.tenant_id) and cardinality(v_recipients) > 0 then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'event_cancelled', 'to', v_recipients,
      'data', json_build_object('name', v_event.name, 'reason', v_event.rejection_reason)),
      job_key => 'event_cancelled_email:' || v_event.id || ':' || v_last);
  end if;
  return v_last;
end;
$$;
comment on function app_private.notify_event_cancelled(uuid, uuid, integer) is
  'Notifies one batch of an event''s participants of its cancellation; returns the last user id of the batch (null when done).';
