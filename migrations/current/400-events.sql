-- 400-events: work in progress for the next committed migration (idempotent; re-run by `npm run db -- watch` and by the test setup).

-- A capacity below the current number of participants would leave the event over-full: refused
-- with CONFLICT (details.reason CAPACITY_BELOW_PARTICIPANTS). The event row is locked FOR UPDATE
-- before counting, the same lock and order as join_event: a join and a capacity change of one
-- event are serialised, so no join can slip in between the count and the update.
create or replace function app_public.update_event(
  event_id uuid, name text default null, starts_at timestamptz default null, ends_at timestamptz default null,
  short_description text default null, description text default null, location text default null, image text default null,
  payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participants integer;
begin
  perform app_private.assert_events_access('events.manage');
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
comment on function app_public.update_event(uuid, text, timestamptz, timestamptz, text, text, text, text, text, integer) is
  E'@resultFieldName event\nChanges an event (needs events.manage); omitted fields keep their value. Moving it moves the reminders. A capacity below the current number of participants is refused (CONFLICT, details.reason CAPACITY_BELOW_PARTICIPANTS).';
