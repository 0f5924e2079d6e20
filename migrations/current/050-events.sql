--------------------------------------------------------------------------------------------------
-- 050-events: events (meetups), their participants and reminders.
--
-- The module's row in the catalogue and its permission's built-in grants; its functions use the
-- platform's access guard (app_private.assert_module_access) instead of a guard of their own.
-- A participant belongs to the tenant of the event and of the user; an event's creator to the
-- event's tenant: composite foreign keys, hidden from GraphQL (the relations stay those of the
-- single columns). participantsCount counts within the caller's tenant only.

insert into app_public.modules (name, description)
  values ('events', 'Events, participants, reminders and notifications.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'events.manage'), ('admin', 'events.manage'), ('manager', 'events.manage')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- The mutations, guarded by assert_module_access('events', …); bodies otherwise as before.

create or replace function app_public.create_event(
  name text, starts_at timestamptz, ends_at timestamptz, short_description text default null,
  description text default null, location text default null, image text default null,
  payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  insert into app_public.events (tenant_id, name, starts_at, ends_at, short_description, description, location,
                                 image, payment_info, max_participants_count, created_by)
    values (app_public.current_tenant_id(), create_event.name, create_event.starts_at, create_event.ends_at,
            create_event.short_description, create_event.description, create_event.location, create_event.image,
            create_event.payment_info, create_event.max_participants_count, app_public.current_user_id())
    returning * into v_event;
  return v_event;
end;
$$;
comment on function app_public.create_event(text, timestamptz, timestamptz, text, text, text, text, text, integer) is
  E'@module events\n@resultFieldName event\nCreates an event (needs events.manage).';

create or replace function app_public.update_event(
  event_id uuid, name text default null, starts_at timestamptz default null, ends_at timestamptz default null,
  short_description text default null, description text default null, location text default null,
  image text default null, payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participants integer;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  select * into v_event from app_public.events e
    where e.id = update_event.event_id and e.tenant_id = app_public.current_tenant_id()
    for update;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
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
    short_description = coalesce(update_event.short_description, e.short_description),
    description = coalesce(update_event.description, e.description),
    location = coalesce(update_event.location, e.location),
    image = coalesce(update_event.image, e.image),
    payment_info = coalesce(update_event.payment_info, e.payment_info),
    max_participants_count = coalesce(update_event.max_participants_count, e.max_participants_count)
  where e.id = v_event.id
  returning * into v_event;
  return v_event;
end;
$$;
comment on function app_public.update_event(uuid, text, timestamptz, timestamptz, text, text, text, text, text, integer)
  is E'@module events\n@resultFieldName event\n'
  'Changes an event (needs events.manage); omitted fields keep their value. Moving it moves the reminders. '
  'A capacity below the current number of participants is refused (CONFLICT, details.reason '
  'CAPACITY_BELOW_PARTICIPANTS).';

create or replace function app_public.reject_event(event_id uuid, reason text default null) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
begin
  perform app_private.assert_module_access('events', 'events.manage');
  update app_public.events e set rejected_at = now(), rejection_reason = reject_event.reason
    where e.id = reject_event.event_id and e.tenant_id = app_public.current_tenant_id() and e.rejected_at is null
    returning * into v_event;
  if v_event.id is null then
    raise exception 'No such event, or already cancelled' using errcode = 'TNFND';
  end if;
  return v_event;
end;
$$;
comment on function app_public.reject_event(uuid, text) is
  E'@module events\n@resultFieldName event\nCancels an event (needs events.manage); every participant is notified.';

create or replace function app_public.join_event(event_id uuid) returns app_public.event_participants
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participant app_public.event_participants;
begin
  perform app_private.assert_module_access('events');
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
  if v_event.max_participants_count is not null
     and (select count(*) from app_public.event_participants p
          where p.event_id = v_event.id and p.status = 'PARTICIPATING') >= v_event.max_participants_count then
    raise exception 'The event is full' using errcode = 'TEFUL';
  end if;
  insert into app_public.event_participants (tenant_id, event_id, user_id)
    values (v_event.tenant_id, v_event.id, app_public.current_user_id())
    returning * into v_participant;
  return v_participant;
end;
$$;
comment on function app_public.join_event(uuid) is
  E'@module events\n@resultFieldName participant\n'
  'Takes part in an event; EVENT_FULL when no place is left. Schedules your reminder.';

create or replace function app_public.leave_event(event_id uuid) returns boolean
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access('events');
  delete from app_public.event_participants p
    where p.event_id = leave_event.event_id and p.user_id = app_public.current_user_id() and p.status = 'PARTICIPATING'
      and p.tenant_id = app_public.current_tenant_id();
  if not found then
    raise exception 'You do not take part in this event' using errcode = 'TNFND';
  end if;
  return true;
end;
$$;
comment on function app_public.leave_event(uuid) is
  E'@module events\n@resultFieldName left\nStops taking part; the reminder is cancelled.';

create or replace function app_public.reject_participant(event_id uuid, user_id uuid)
  returns app_public.event_participants
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_participant app_public.event_participants;
begin
  perform app_private.assert_module_access('events', 'events.manage');
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
comment on function app_public.reject_participant(uuid, uuid) is
  E'@module events\n@resultFieldName participant\n'
  'Removes someone from an event (needs events.manage); they cannot join again.';

drop function if exists app_private.assert_events_access(text);

-- A security definer computed column reads within the caller's tenant, whatever row it is given.
create or replace function app_public.events_participants_count(e app_public.events) returns integer
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select count(*)::integer from app_public.event_participants p
  where p.event_id = e.id and p.tenant_id = app_public.current_tenant_id() and p.status = 'PARTICIPATING';
$$;
comment on function app_public.events_participants_count(app_public.events) is
  E'@module events\nHow many people take part.';

--------------------------------------------------------------------------------------------------
-- Tenant consistency: composite foreign keys to events (tenant_id, id) and users (tenant_id, id).

create unique index if not exists events_tenant_id_id_key on app_public.events (tenant_id, id);

alter table app_public.event_participants drop constraint if exists event_participants_tenant_id_event_id_fkey;
alter table app_public.event_participants add constraint event_participants_tenant_id_event_id_fkey
  foreign key (tenant_id, event_id) references app_public.events (tenant_id, id) on delete cascade;
comment on constraint event_participants_tenant_id_event_id_fkey on app_public.event_participants is
  E'@behavior -*\nThe event belongs to the participant''s tenant.';
alter table app_public.event_participants drop constraint if exists event_participants_tenant_id_user_id_fkey;
alter table app_public.event_participants add constraint event_participants_tenant_id_user_id_fkey
  foreign key (tenant_id, user_id) references app_public.users (tenant_id, id) on delete cascade;
comment on constraint event_participants_tenant_id_user_id_fkey on app_public.event_participants is
  E'@behavior -*\nThe user belongs to the participant''s tenant.';
create index if not exists event_participants_tenant_event_idx on app_public.event_participants (tenant_id, event_id);
drop index if exists app_public.event_participants_tenant_idx;
create index if not exists event_participants_user_tenant_idx on app_public.event_participants (user_id, tenant_id);
drop index if exists app_public.event_participants_user_idx;

alter table app_public.events drop constraint if exists events_tenant_id_created_by_fkey;
alter table app_public.events add constraint events_tenant_id_created_by_fkey
  foreign key (tenant_id, created_by) references app_public.users (tenant_id, id) on delete set null (created_by);
comment on constraint events_tenant_id_created_by_fkey on app_public.events is
  E'@behavior -*\nThe creator belongs to the event''s tenant.';
create index if not exists events_created_by_tenant_idx on app_public.events (created_by, tenant_id);
drop index if exists app_public.events_created_by_idx;

do $$
declare
  v record;
begin
  for v in
    select * from (values
      ('events', 'select_visible', 'select_member'),
      ('event_participants', 'select_own_or_manager', 'select_self_or_events_manage')
    ) as p(table_name, old_name, new_name)
  loop
    if exists (select 1 from pg_policies p
               where p.schemaname = 'app_public' and p.tablename = v.table_name and p.policyname = v.old_name) then
      execute format('alter policy %I on app_public.%I rename to %I', v.old_name, v.table_name, v.new_name);
    end if;
  end loop;
end
$$;

--------------------------------------------------------------------------------------------------
-- The events module's other objects, with their module.

comment on table app_public.events is
  E'@module events\n@behavior -insert -update -delete\n'
  'An event of the tenant (module `events`). Members see events that are not rejected.';
comment on table app_public.event_participants is
  E'@module events\n@behavior -insert -update -delete\n'
  'Who takes part in an event. Members see their own participation; managers see all.';
comment on function app_public.search_events(text, timestamptz, timestamptz, boolean) is
  E'@module events\n@behavior +order +filter\n'
  'Events matching a text search (name and descriptions, at most 256 characters), a start range, and/or only '
  'upcoming ones.';
comment on function app_public.events_viewer_is_participating(app_public.events) is
  E'@module events\nTrue when the signed-in user takes part.';
comment on function app_private.schedule_event_reminders(uuid, uuid) is
  E'@module events\n'
  'Schedules (or moves) the reminder job of one participant, or of every participant of the event, in one '
  'bulk enqueue.';
comment on function app_private.tg_event_participants__reminder() is
  E'@module events\n'
  'Schedules a new participant''s reminder; cancels it when the participant leaves or is removed.';
comment on function app_private.tg_events__schedule() is
  E'@module events\n'
  'A cancelled event enqueues the event_cancelled fan-out; a moved one moves its reminders.';
comment on function app_private.events_email_enabled(uuid) is
  E'@module events\n'
  'Whether the tenant wants e-mail copies of event notifications (events module setting '
  '`emailNotifications`, default true).';
comment on function app_private.send_event_reminder(uuid) is
  E'@module events\n'
  'The reminder task: notifies the participant and e-mails them (when the tenant wants e-mails); '
  'idempotent, the participant row records the delivery. False when there is nothing (more) to send.';
comment on function app_private.notify_event_cancelled(uuid, uuid, integer) is
  E'@module events\n'
  'Notifies one batch of an event''s participants of its cancellation; returns the last user id of the '
  'batch (null when done).';
comment on function app_private.check_event_image() is
  E'@module events\n'
  'Before insert/update of an event''s image: https:// URL or /api/images/<id> of an image of the event''s '
  'tenant (VALIDATION_FAILED otherwise).';
