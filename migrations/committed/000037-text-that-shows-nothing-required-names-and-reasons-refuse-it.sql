--! Previous: sha1:7238fa378e44e0b885f6219dd35cd2baac7eacd1
--! Hash: sha1:67dcf9173d9ffa5d5651ed443451f93f077ecefb
--! Message: Text that shows nothing: required names and reasons refuse it (<table>_<column>_visible checks, VALIDATION_FAILED naming the field, reason BLANK), optional texts store it as null; updateEvent with a capacity below 1 is VALIDATION_FAILED

--! split: 010-platform.sql
-- Text that shows nothing is no text. A name made of spaces, zero-width or invisible characters
-- only (U+200B, U+3164 Hangul filler, U+2800 braille blank, lone combining marks, tag characters…)
-- was stored as if it were one. Required text now needs something visible; optional text that
-- shows nothing is stored as null, which is how a client clears it where an omitted argument keeps
-- the old value (updateEvent).
create or replace function app_hidden.is_visible_text(value text) returns boolean
  language sql immutable strict parallel safe
  set search_path to pg_catalog, public, pg_temp
as $$
  select regexp_replace(value,
    -- White space and controls; every format character (Unicode's class Cf); combining marks, which
    -- show nothing alone; fillers and blanks that render as space; variation selectors; tags.
    '[\x01-\x20\x7f-\xa0\u00ad\u0300-\u036f\u0483-\u0489\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891'
    '\u08e2\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u1ab0-\u1aff\u1dc0-\u1dff\u2000-\u200f'
    '\u2028-\u202f\u205f-\u206f\u20d0-\u20ff\u2800\u3000\u3164\ufe00-\ufe0f\ufe20-\ufe2f\ufeff\uffa0'
    '\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a'
    '\U000e0001-\U000e007f\U000e0100-\U000e01ef]', '', 'g') <> '';
$$;
comment on function app_hidden.is_visible_text(text) is
  E'@module platform\n'
  'True when the text has a character that shows: not only white space, controls, format characters, '
  'combining marks, fillers, variation selectors or tags. Null for null (a check constraint passes). In '
  'app_hidden: the checks that call it run as the request''s role.';
revoke all on function app_hidden.is_visible_text(text) from public;
grant execute on function app_hidden.is_visible_text(text) to :DATABASE_VISITOR, :DATABASE_BOT;

create or replace function app_private.tg__blank_text_to_null() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_row jsonb := to_jsonb(new);
  v_blank jsonb := '{}';
  v_column text;
begin
  foreach v_column in array tg_argv loop
    if not app_hidden.is_visible_text(v_row ->> v_column) then
      v_blank := v_blank || jsonb_build_object(v_column, null);
    end if;
  end loop;
  if v_blank <> '{}' then
    new := jsonb_populate_record(new, v_blank);
  end if;
  return new;
end;
$$;
comment on function app_private.tg__blank_text_to_null() is
  E'@module platform\n'
  'Stores the optional text columns named as trigger arguments as null when they show nothing '
  '(app_hidden.is_visible_text).';

--! split: 020-tenancy.sql
-- A tenant's name shows something (constraint names <table>_<column>_visible: the API answers
-- VALIDATION_FAILED naming the field, reason BLANK). NOT VALID: rows written before are kept.
alter table app_public.tenants drop constraint if exists tenants_name_visible;
alter table app_public.tenants add constraint tenants_name_visible
  check (app_hidden.is_visible_text(name)) not valid;

--! split: 030-identity.sql
-- A user's full name is optional: one that shows nothing is stored as null.
drop trigger if exists _050_blank_text_to_null on app_public.users;
create trigger _050_blank_text_to_null before insert or update of full_name on app_public.users
  for each row execute function app_private.tg__blank_text_to_null('full_name');

--! split: 050-events.sql
-- An event's name shows something; its optional texts that show nothing are stored as null (an
-- empty string is how updateEvent clears one, since an omitted argument keeps the old value).
alter table app_public.events drop constraint if exists events_name_visible;
alter table app_public.events add constraint events_name_visible
  check (app_hidden.is_visible_text(name)) not valid;
drop trigger if exists _050_blank_text_to_null on app_public.events;
create trigger _050_blank_text_to_null
  before insert or update of short_description, description, location, payment_info, rejection_reason
  on app_public.events
  for each row execute function app_private.tg__blank_text_to_null(
    'short_description', 'description', 'location', 'payment_info', 'rejection_reason');

-- updateEvent with a capacity below 1 is a bad input (VALIDATION_FAILED), not a conflict with the
-- participants it has.
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
  'Changes an event (needs events.manage); omitted fields keep their value, and an optional text that '
  'shows nothing (an empty string) clears it. Moving it moves the reminders. A capacity below 1 is '
  'VALIDATION_FAILED; one below the current number of participants is refused (CONFLICT, details.reason '
  'CAPACITY_BELOW_PARTICIPANTS).';

--! split: 060-commerce.sql
-- Names and ledger reasons show something; a product's optional description that shows nothing is
-- stored as null.
alter table app_public.categories drop constraint if exists categories_name_visible;
alter table app_public.categories add constraint categories_name_visible
  check (app_hidden.is_visible_text(name)) not valid;
alter table app_public.products drop constraint if exists products_name_visible;
alter table app_public.products add constraint products_name_visible
  check (app_hidden.is_visible_text(name)) not valid;
alter table app_public.bots drop constraint if exists bots_name_visible;
alter table app_public.bots add constraint bots_name_visible
  check (app_hidden.is_visible_text(name)) not valid;
alter table app_public.api_keys drop constraint if exists api_keys_name_visible;
alter table app_public.api_keys add constraint api_keys_name_visible
  check (app_hidden.is_visible_text(name)) not valid;
alter table app_public.transactions drop constraint if exists transactions_reason_visible;
alter table app_public.transactions add constraint transactions_reason_visible
  check (app_hidden.is_visible_text(reason)) not valid;
drop trigger if exists _050_blank_text_to_null on app_public.products;
create trigger _050_blank_text_to_null before insert or update of description on app_public.products
  for each row execute function app_private.tg__blank_text_to_null('description');

--! split: 070-messaging.sql
-- A group's title and a message's body show something: the former checks let through a text of
-- Hangul fillers (U+3164), braille blanks (U+2800), combining marks or tag characters only.
alter table app_public.chats drop constraint if exists chats_title_visible;
alter table app_public.chats add constraint chats_title_visible
  check (app_hidden.is_visible_text(title)) not valid;
alter table app_public.messages drop constraint if exists messages_body_visible;
alter table app_public.messages add constraint messages_body_visible
  check (deleted_at is not null or app_hidden.is_visible_text(body)) not valid;

--! split: 080-broadcasts.sql
-- A broadcast's text shows something (the former check let through Hangul fillers, braille blanks,
-- combining marks and tag characters); named as the other such checks are.
alter table app_public.broadcasts drop constraint if exists broadcasts_text_not_blank;
alter table app_public.broadcasts drop constraint if exists broadcasts_text_visible;
alter table app_public.broadcasts add constraint broadcasts_text_visible
  check (app_hidden.is_visible_text(text)) not valid;
