--! Previous: sha1:3ed485f8e5bb6569393176161ced6a708da3224b
--! Hash: sha1:1f1c0fd7511786aade6990cfe876d0f51a844706
--! Message: Names are one line: control characters and line separators refused in the names and titles of tenants, users, events, commerce and group chats (<table>_<column>_one_line checks, VALIDATION_FAILED reason CONTROL_CHARACTER)

--! split: 010-platform.sql
-- A name is one line of text. Control characters (Unicode's class Cc: tab, line feed, carriage
-- return, escape, bell, C1 controls…) and the line and paragraph separators U+2028/U+2029 broke
-- lists, logs and Telegram messages that show a name, and an escape sequence in a name reached
-- terminals that print it. Checks named <table>_<column>_one_line refuse them: the API answers
-- VALIDATION_FAILED naming the field, reason CONTROL_CHARACTER. NOT VALID: rows written before are
-- kept, and are checked again when they are next written.
create or replace function app_hidden.is_one_line_text(value text) returns boolean
  language sql immutable strict parallel safe
  set search_path to pg_catalog, public, pg_temp
as $$
  -- Text that shows nothing is left to the <table>_<column>_visible checks, which call it BLANK.
  select value !~ '[\x01-\x1f\x7f-\x9f\u2028\u2029]' or not app_hidden.is_visible_text(value);
$$;
comment on function app_hidden.is_one_line_text(text) is
  E'@module platform\n'
  'True when the text holds no control character (Cc) and no line or paragraph separator (U+2028, '
  'U+2029), or shows nothing at all (app_hidden.is_visible_text judges that). Null for null (a check constraint passes). In app_hidden: the checks that call it run as '
  'the request''s role.';
revoke all on function app_hidden.is_one_line_text(text) from public;
grant execute on function app_hidden.is_one_line_text(text) to :DATABASE_VISITOR, :DATABASE_BOT;

--! split: 020-tenancy.sql
-- Names are one line of text (app_hidden.is_one_line_text, 010-platform.sql).
alter table app_public.tenants drop constraint if exists tenants_name_one_line;
alter table app_public.tenants add constraint tenants_name_one_line
  check (app_hidden.is_one_line_text(name)) not valid;

--! split: 030-identity.sql
-- A user's full name is one line of text (app_hidden.is_one_line_text, 010-platform.sql).
alter table app_public.users drop constraint if exists users_full_name_one_line;
alter table app_public.users add constraint users_full_name_one_line
  check (app_hidden.is_one_line_text(full_name)) not valid;

--! split: 050-events.sql
-- An event's name is one line of text (app_hidden.is_one_line_text, 010-platform.sql).
alter table app_public.events drop constraint if exists events_name_one_line;
alter table app_public.events add constraint events_name_one_line
  check (app_hidden.is_one_line_text(name)) not valid;

--! split: 070-commerce.sql
-- Names are one line of text (app_hidden.is_one_line_text, 010-platform.sql).
alter table app_public.api_keys drop constraint if exists api_keys_name_one_line;
alter table app_public.api_keys add constraint api_keys_name_one_line
  check (app_hidden.is_one_line_text(name)) not valid;
alter table app_public.bots drop constraint if exists bots_name_one_line;
alter table app_public.bots add constraint bots_name_one_line
  check (app_hidden.is_one_line_text(name)) not valid;
alter table app_public.categories drop constraint if exists categories_name_one_line;
alter table app_public.categories add constraint categories_name_one_line
  check (app_hidden.is_one_line_text(name)) not valid;
alter table app_public.products drop constraint if exists products_name_one_line;
alter table app_public.products add constraint products_name_one_line
  check (app_hidden.is_one_line_text(name)) not valid;

--! split: 080-messaging.sql
-- A group chat's title is one line of text (app_hidden.is_one_line_text, 010-platform.sql).
alter table app_public.chats drop constraint if exists chats_title_one_line;
alter table app_public.chats add constraint chats_title_one_line
  check (app_hidden.is_one_line_text(title)) not valid;
