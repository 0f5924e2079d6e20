--! Previous: sha1:b051944497329a8b54d0d7afd90457152de7b8e3
--! Hash: sha1:54d31e66195b743188b107ffc0dc78c8b209d553
--! Message: Messaging and builds: chats, members and messages with members-only RLS, unread counts and grouped notifications; builds with log lines, releases with activation and rollback, build_requested events

--! split: 1-current.sql
-- Enter migration here

--! split: 2-messaging.sql
--------------------------------------------------------------------------------------------------
-- 2-messaging: chats between the users of a tenant (docs/messaging.md).
--
-- A chat is `direct` (exactly two users, one chat per pair: a unique index on the ordered pair) or
-- a `group` (a title, an owner who adds and removes members). Only members see a chat, its members
-- and its messages (RLS through app_hidden.is_chat_member, a definer function so the policies do
-- not recurse). Every write goes through the app_public functions below (definer functions that
-- check the caller with app_public.current_user_id() and the module guard). A deleted message keeps
-- its row and place; its body and image are cleared. Each new, edited or deleted message and each
-- removal of a member is NOTIFYed on tenant:<id>:chats ({chatId, messageId, op}) for the
-- chatMessageAdded subscription, which reads the message back under RLS.
--
-- Notifications: a new message makes at most one unread instant notification per chat and
-- recipient (every member but the sender, unless muted): an unread one is updated in place, an
-- acknowledged one is replaced by a new one (which is NOTIFYed). markChatRead acknowledges it.

drop function if exists app_public.start_direct_chat(uuid);
drop function if exists app_public.create_group_chat(text, uuid[]);
drop function if exists app_public.add_chat_member(uuid, uuid);
drop function if exists app_public.remove_chat_member(uuid, uuid);
drop function if exists app_public.send_message(uuid, text, text, uuid);
drop function if exists app_public.edit_message(uuid, text);
drop function if exists app_public.delete_message(uuid);
drop function if exists app_public.mark_chat_read(uuid);
drop function if exists app_public.my_chats();
drop function if exists app_public.chats_unread_count(app_public.chats);
drop function if exists app_public.unread_messages_total();
drop function if exists app_private.notify_chat_message(uuid, uuid, uuid, text);
drop function if exists app_private.chat_message_notifications(app_public.messages);
drop table if exists app_public.messages cascade;
drop table if exists app_public.chat_members cascade;
drop table if exists app_public.chats cascade;
drop function if exists app_hidden.is_chat_member(uuid);
drop function if exists app_private.tg_messages__notify();
drop function if exists app_private.tg_chat_members__notify();
delete from app_public.instant_notifications where kind = 'chat_message';

insert into app_public.modules (name, description)
  values ('messaging', 'Direct and group chats between the tenant''s users, live and with unread counts.')
  on conflict (name) do nothing;

--------------------------------------------------------------------------------------------------
-- Tables.

create table app_public.chats (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  kind text not null check (kind in ('direct', 'group')),
  title text check (title is null or (length(title) between 1 and 200 and title ~ '\S')),
  created_by uuid,
  -- A direct chat's two users, the smaller id first (null for a group).
  direct_user_a uuid,
  direct_user_b uuid,
  created_at timestamptz not null default now(),
  last_message_at timestamptz,
  constraint chats_direct_pair check (
    (kind = 'direct' and direct_user_a is not null and direct_user_b is not null and direct_user_a < direct_user_b
     and title is null)
    or (kind = 'group' and direct_user_a is null and direct_user_b is null and title is not null)),
  foreign key (tenant_id, created_by) references app_public.users (tenant_id, id) on delete set null (created_by),
  foreign key (tenant_id, direct_user_a) references app_public.users (tenant_id, id) on delete cascade,
  foreign key (tenant_id, direct_user_b) references app_public.users (tenant_id, id) on delete cascade
);
create unique index chats_tenant_id_id_key on app_public.chats (tenant_id, id);
-- One direct chat per pair of users (nulls are distinct: groups are not constrained).
create unique index chats_direct_pair_key on app_public.chats (tenant_id, direct_user_a, direct_user_b);
create index chats_direct_user_b_idx on app_public.chats (tenant_id, direct_user_b);
create index chats_created_by_idx on app_public.chats (tenant_id, created_by);
comment on table app_public.chats is E'@module messaging\n@behavior -insert -update -delete\n'
  'A conversation: direct (two users, one chat per pair) or group (a title, owners and members). '
  'Only its members see it.';
comment on column app_public.chats.kind is 'direct or group.';
comment on column app_public.chats.title is 'A group''s title (null for a direct chat).';
comment on column app_public.chats.last_message_at is 'When the last message was sent (null: none yet).';
comment on column app_public.chats.direct_user_a is E'@behavior -*';
comment on column app_public.chats.direct_user_b is E'@behavior -*';
comment on constraint chats_tenant_id_created_by_fkey on app_public.chats is E'@behavior -*';
comment on constraint chats_tenant_id_direct_user_a_fkey on app_public.chats is E'@behavior -*';
comment on constraint chats_tenant_id_direct_user_b_fkey on app_public.chats is E'@behavior -*';

create table app_public.chat_members (
  tenant_id uuid not null references app_public.tenants on delete cascade,
  chat_id uuid not null,
  user_id uuid not null,
  role text not null default 'member' check (role in ('owner', 'member')),
  joined_at timestamptz not null default now(),
  last_read_at timestamptz not null default now(),
  muted boolean not null default false,
  primary key (chat_id, user_id),
  foreign key (tenant_id, chat_id) references app_public.chats (tenant_id, id) on delete cascade,
  foreign key (tenant_id, user_id) references app_public.users (tenant_id, id) on delete cascade
);
create unique index chat_members_tenant_chat_user_key on app_public.chat_members (tenant_id, chat_id, user_id);
create index chat_members_user_idx on app_public.chat_members (tenant_id, user_id);
comment on table app_public.chat_members is E'@module messaging\n@behavior -insert -update -delete\n'
  'A user''s membership of a chat: role (owner or member), when they last read it, muted.';
comment on column app_public.chat_members.role is 'owner (adds and removes members of a group) or member.';
comment on column app_public.chat_members.last_read_at is 'Messages after this are unread (markChatRead).';
comment on column app_public.chat_members.muted is 'A muted member gets no notifications for the chat.';
comment on constraint chat_members_tenant_id_chat_id_fkey on app_public.chat_members is
  E'@fieldName chat\n@foreignFieldName members';
comment on constraint chat_members_tenant_id_user_id_fkey on app_public.chat_members is E'@behavior -*';

create table app_public.messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  chat_id uuid not null,
  sender_id uuid,
  body text,
  image_sha256 text,
  reply_to_id uuid,
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  -- 1..4,000 characters, not only whitespace; a deleted message has neither body nor image.
  constraint messages_body_valid check (
    case when deleted_at is null then body is not null and length(body) between 1 and 4000 and body ~ '\S'
         else body is null and image_sha256 is null end),
  foreign key (tenant_id, chat_id) references app_public.chats (tenant_id, id) on delete cascade,
  foreign key (tenant_id, sender_id) references app_public.users (tenant_id, id) on delete set null (sender_id),
  foreign key (tenant_id, image_sha256) references app_public.images (tenant_id, sha256)
);
create unique index messages_tenant_chat_id_key on app_public.messages (tenant_id, chat_id, id);
-- A reply is to a message of the same chat.
alter table app_public.messages add constraint messages_reply_to_fkey foreign key (tenant_id, chat_id, reply_to_id)
  references app_public.messages (tenant_id, chat_id, id) on delete cascade;
create index messages_history_idx on app_public.messages (tenant_id, chat_id, created_at desc, id desc);
create index messages_reply_to_idx on app_public.messages (tenant_id, chat_id, reply_to_id);
create index messages_sender_idx on app_public.messages (tenant_id, sender_id);
create index messages_image_idx on app_public.messages (tenant_id, image_sha256);
comment on table app_public.messages is E'@module messaging\n@behavior -insert -update -delete\n'
  'A message of a chat: a body of 1 to 4,000 characters, an optional image, an optional reply to a '
  'message of the same chat. A deleted message keeps its place; its body and image are cleared.';
comment on column app_public.messages.body is 'The text (null once deleted).';
comment on column app_public.messages.image_sha256 is 'An image of the tenant (its hash; null once deleted).';
comment on constraint messages_tenant_id_chat_id_fkey on app_public.messages is
  E'@fieldName chat\n@foreignFieldName messages';
comment on constraint messages_tenant_id_sender_id_fkey on app_public.messages is E'@behavior -*';
comment on constraint messages_tenant_id_image_sha256_fkey on app_public.messages is E'@behavior -*';
comment on constraint messages_reply_to_fkey on app_public.messages is E'@fieldName replyTo\n@foreignFieldName replies';

--------------------------------------------------------------------------------------------------
-- Who sees what.

create function app_hidden.is_chat_member(chat_id uuid) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_public.chat_members m
    where m.chat_id = is_chat_member.chat_id and m.user_id = app_public.current_user_id()
      and m.tenant_id = app_public.current_tenant_id());
$$;
comment on function app_hidden.is_chat_member(uuid) is
  E'@module messaging\nTrue when the signed-in user is a member of the chat (the policies'' test).';
revoke execute on function app_hidden.is_chat_member(uuid) from public;
grant execute on function app_hidden.is_chat_member(uuid) to :DATABASE_VISITOR;

alter table app_public.chats enable row level security;
create policy select_member on app_public.chats for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('messaging'))
  and app_hidden.is_chat_member(id));
grant select on app_public.chats to :DATABASE_VISITOR;

alter table app_public.chat_members enable row level security;
create policy select_member on app_public.chat_members for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('messaging'))
  and app_hidden.is_chat_member(chat_id));
grant select on app_public.chat_members to :DATABASE_VISITOR;

alter table app_public.messages enable row level security;
create policy select_member on app_public.messages for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('messaging'))
  and app_hidden.is_chat_member(chat_id));
grant select on app_public.messages to :DATABASE_VISITOR;

--------------------------------------------------------------------------------------------------
-- Live events: tenant:<id>:chats carries {chatId, messageId, op} (created, edited, deleted) and
-- {chatId, userId, op: member_removed}; the subscription filters by chat and re-checks membership.

create function app_private.notify_chat_message(tenant_id uuid, chat_id uuid, message_id uuid, op text)
  returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select pg_notify('tenant:' || notify_chat_message.tenant_id::text || ':chats',
                   json_build_object('chatId', notify_chat_message.chat_id, 'messageId', notify_chat_message.message_id,
                                     'op', notify_chat_message.op)::text);
$$;
comment on function app_private.notify_chat_message(uuid, uuid, uuid, text) is
  E'@module messaging\nNOTIFYs a message''s change on its tenant''s chats channel (chatMessageAdded).';

create function app_private.tg_messages__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.notify_chat_message(new.tenant_id, new.chat_id, new.id,
    case when tg_op = 'INSERT' then 'created' when new.deleted_at is not null then 'deleted' else 'edited' end);
  return null;
end;
$$;
comment on function app_private.tg_messages__notify() is
  E'@module messaging\nAfter a message is sent, edited or deleted: NOTIFY for chatMessageAdded.';
create trigger _500_notify after insert or update on app_public.messages
  for each row execute function app_private.tg_messages__notify();

create function app_private.tg_chat_members__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('tenant:' || old.tenant_id::text || ':chats',
                    json_build_object('chatId', old.chat_id, 'userId', old.user_id, 'op', 'member_removed')::text);
  return null;
end;
$$;
comment on function app_private.tg_chat_members__notify() is
  E'@module messaging\nAfter a member leaves or is removed: NOTIFY, so their chatMessageAdded ends at once.';
create trigger _500_notify after delete on app_public.chat_members
  for each row execute function app_private.tg_chat_members__notify();

--------------------------------------------------------------------------------------------------
-- Reads.

create function app_public.my_chats() returns setof app_public.chats
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select c.* from app_public.chats c
    join app_public.chat_members m on m.chat_id = c.id and m.user_id = app_public.current_user_id()
  order by coalesce(c.last_message_at, c.created_at) desc, c.id desc;
$$;
comment on function app_public.my_chats() is
  E'@module messaging\n@sortable\nThe signed-in user''s chats, the one with the latest message first.';
revoke execute on function app_public.my_chats() from public;
grant execute on function app_public.my_chats() to :DATABASE_VISITOR;

create function app_public.chats_unread_count(chat app_public.chats) returns integer
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select count(*)::integer from app_public.messages msg
    join app_public.chat_members m on m.chat_id = msg.chat_id and m.user_id = app_public.current_user_id()
  where msg.tenant_id = chat.tenant_id and msg.chat_id = chat.id and msg.created_at > m.last_read_at
    and msg.deleted_at is null and msg.sender_id is distinct from m.user_id;
$$;
comment on function app_public.chats_unread_count(app_public.chats) is
  E'@module messaging\nMessages of others in the chat since the signed-in user last read it (deleted ones aside).';
revoke execute on function app_public.chats_unread_count(app_public.chats) from public;
grant execute on function app_public.chats_unread_count(app_public.chats) to :DATABASE_VISITOR;

create function app_public.unread_messages_total() returns integer
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select count(*)::integer from app_public.messages msg
    join app_public.chat_members m on m.chat_id = msg.chat_id and m.user_id = app_public.current_user_id()
  where msg.created_at > m.last_read_at and msg.deleted_at is null and msg.sender_id is distinct from m.user_id;
$$;
comment on function app_public.unread_messages_total() is
  E'@module messaging\nThe signed-in user''s unread messages in all their chats.';
revoke execute on function app_public.unread_messages_total() from public;
grant execute on function app_public.unread_messages_total() to :DATABASE_VISITOR;

--------------------------------------------------------------------------------------------------
-- Writes.

create function app_public.start_direct_chat(user_id uuid) returns app_public.chats
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_me uuid := app_public.current_user_id();
  v_tenant uuid := app_public.current_tenant_id();
  v_chat app_public.chats;
begin
  perform app_private.assert_module_access('messaging');
  if start_direct_chat.user_id is null or start_direct_chat.user_id = v_me then
    raise exception 'A direct chat is with another user' using errcode = 'TVALD',
      detail = json_build_object('field', 'userId', 'reason', 'NOT_ANOTHER_USER')::text;
  end if;
  if not exists (select 1 from app_public.users u
                 where u.id = start_direct_chat.user_id and u.tenant_id = v_tenant and u.deleted_at is null) then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  insert into app_public.chats as c (tenant_id, kind, created_by, direct_user_a, direct_user_b)
    values (v_tenant, 'direct', v_me, least(v_me, start_direct_chat.user_id), greatest(v_me, start_direct_chat.user_id))
    on conflict (tenant_id, direct_user_a, direct_user_b) do nothing
    returning * into v_chat;
  if v_chat.id is null then
    select * into v_chat from app_public.chats c
      where c.tenant_id = v_tenant and c.direct_user_a = least(v_me, start_direct_chat.user_id)
        and c.direct_user_b = greatest(v_me, start_direct_chat.user_id);
  else
    insert into app_public.chat_members (tenant_id, chat_id, user_id, role)
      values (v_tenant, v_chat.id, v_me, 'member'), (v_tenant, v_chat.id, start_direct_chat.user_id, 'member');
  end if;
  return v_chat;
end;
$$;
comment on function app_public.start_direct_chat(uuid) is E'@module messaging\n@resultFieldName chat\n'
  'The direct chat between the signed-in user and another user of the tenant: made the first time, '
  'the same chat afterwards.';
revoke execute on function app_public.start_direct_chat(uuid) from public;
grant execute on function app_public.start_direct_chat(uuid) to :DATABASE_VISITOR;

create function app_public.create_group_chat(title text, member_ids uuid[]) returns app_public.chats
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_me uuid := app_public.current_user_id();
  v_tenant uuid := app_public.current_tenant_id();
  v_chat app_public.chats;
  v_ids uuid[];
begin
  perform app_private.assert_module_access('messaging');
  if create_group_chat.title is null or length(create_group_chat.title) not between 1 and 200
     or create_group_chat.title !~ '\S' then
    raise exception 'A title of 1 to 200 characters is required' using errcode = 'TVALD',
      detail = json_build_object('field', 'title', 'reason', 'INVALID_TITLE')::text;
  end if;
  select coalesce(array_agg(distinct x), '{}') into v_ids
    from unnest(coalesce(create_group_chat.member_ids, '{}')) x where x <> v_me;
  if cardinality(v_ids) > 200 then
    raise exception 'At most 200 members' using errcode = 'TVALD',
      detail = json_build_object('field', 'memberIds', 'reason', 'TOO_MANY')::text;
  end if;
  if (select count(*) from app_public.users u
      where u.id = any(v_ids) and u.tenant_id = v_tenant and u.deleted_at is null) <> cardinality(v_ids) then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  insert into app_public.chats (tenant_id, kind, title, created_by)
    values (v_tenant, 'group', create_group_chat.title, v_me) returning * into v_chat;
  insert into app_public.chat_members (tenant_id, chat_id, user_id, role)
    select v_tenant, v_chat.id, v_me, 'owner'
    union all select v_tenant, v_chat.id, x, 'member' from unnest(v_ids) x;
  return v_chat;
end;
$$;
comment on function app_public.create_group_chat(text, uuid[]) is E'@module messaging\n@resultFieldName chat\n'
  'A new group chat: the signed-in user its owner, the given users of the tenant its members.';
revoke execute on function app_public.create_group_chat(text, uuid[]) from public;
grant execute on function app_public.create_group_chat(text, uuid[]) to :DATABASE_VISITOR;

create function app_public.add_chat_member(chat_id uuid, user_id uuid) returns app_public.chat_members
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_public.current_tenant_id();
  v_chat app_public.chats;
  v_member app_public.chat_members;
begin
  perform app_private.assert_module_access('messaging');
  select * into v_chat from app_public.chats c
    where c.id = add_chat_member.chat_id and c.tenant_id = v_tenant and app_hidden.is_chat_member(c.id)
    for update;
  if v_chat.id is null then
    raise exception 'No such chat' using errcode = 'TNFND';
  end if;
  if v_chat.kind <> 'group' or not exists (
       select 1 from app_public.chat_members m
       where m.chat_id = v_chat.id and m.user_id = app_public.current_user_id() and m.role = 'owner') then
    raise exception 'Only an owner of a group chat adds members' using errcode = 'TFORB';
  end if;
  if not exists (select 1 from app_public.users u
                 where u.id = add_chat_member.user_id and u.tenant_id = v_tenant and u.deleted_at is null) then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  insert into app_public.chat_members as m (tenant_id, chat_id, user_id, role)
    values (v_tenant, v_chat.id, add_chat_member.user_id, 'member')
    on conflict on constraint chat_members_pkey do nothing
    returning * into v_member;
  if v_member.chat_id is null then
    select * into v_member from app_public.chat_members m
      where m.chat_id = v_chat.id and m.user_id = add_chat_member.user_id;
  end if;
  return v_member;
end;
$$;
comment on function app_public.add_chat_member(uuid, uuid) is E'@module messaging\n@resultFieldName chatMember\n'
  'Adds a user of the tenant to a group chat (its owners only); adding a member again changes nothing.';
revoke execute on function app_public.add_chat_member(uuid, uuid) from public;
grant execute on function app_public.add_chat_member(uuid, uuid) to :DATABASE_VISITOR;

create function app_public.remove_chat_member(chat_id uuid, user_id uuid) returns app_public.chats
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_me uuid := app_public.current_user_id();
  v_chat app_public.chats;
  v_target app_public.chat_members;
begin
  perform app_private.assert_module_access('messaging');
  select * into v_chat from app_public.chats c
    where c.id = remove_chat_member.chat_id and c.tenant_id = app_public.current_tenant_id()
      and app_hidden.is_chat_member(c.id)
    for update;
  if v_chat.id is null then
    raise exception 'No such chat' using errcode = 'TNFND';
  end if;
  if v_chat.kind <> 'group' then
    raise exception 'A direct chat has no members to remove' using errcode = 'TFORB';
  end if;
  if remove_chat_member.user_id is distinct from v_me and not exists (
       select 1 from app_public.chat_members m
       where m.chat_id = v_chat.id and m.user_id = v_me and m.role = 'owner') then
    raise exception 'Only an owner of a group chat removes members' using errcode = 'TFORB';
  end if;
  select * into v_target from app_public.chat_members m
    where m.chat_id = v_chat.id and m.user_id = remove_chat_member.user_id;
  if v_target.chat_id is null then
    raise exception 'No such member' using errcode = 'TNFND';
  end if;
  if v_target.role = 'owner' and not exists (
       select 1 from app_public.chat_members m
       where m.chat_id = v_chat.id and m.role = 'owner' and m.user_id <> v_target.user_id) then
    raise exception 'A group keeps at least one owner' using errcode = 'TCONF',
      detail = json_build_object('reason', 'LAST_OWNER')::text;
  end if;
  delete from app_public.chat_members m where m.chat_id = v_chat.id and m.user_id = v_target.user_id;
  return v_chat;
end;
$$;
comment on function app_public.remove_chat_member(uuid, uuid) is E'@module messaging\n@resultFieldName chat\n'
  'Removes a member from a group chat (its owners; any member may remove themselves). The last owner '
  'stays (CONFLICT). The removed member''s chatMessageAdded ends at once.';
revoke execute on function app_public.remove_chat_member(uuid, uuid) from public;
grant execute on function app_public.remove_chat_member(uuid, uuid) to :DATABASE_VISITOR;

create function app_private.chat_message_notifications(message app_public.messages) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_chat app_public.chats;
  v_sender text;
begin
  select * into v_chat from app_public.chats c where c.id = message.chat_id;
  select coalesce(nullif(u.full_name, ''), u.username::text, 'Someone') into v_sender
    from app_public.users u where u.id = message.sender_id;
  -- An acknowledged notification of the chat is replaced by a new one (which is NOTIFYed)...
  delete from app_public.instant_notifications n
    using app_public.chat_members m
    where m.chat_id = message.chat_id and m.user_id <> message.sender_id and not m.muted
      and n.recipient_id = m.user_id and n.kind = 'chat_message' and n.subject_id = message.chat_id
      and n.acked_at is not null;
  -- ...an unread one is updated in place: one unread notification per chat and recipient.
  insert into app_public.instant_notifications as n (tenant_id, recipient_id, kind, title, content, cta_url, cta_label,
                                                     subject_id)
    select message.tenant_id, m.user_id, 'chat_message',
           left(coalesce(v_chat.title, v_sender), 300),
           left(v_sender || ': ' || message.body, 5000),
           '/chats/' || message.chat_id, 'Open chat', message.chat_id
    from app_public.chat_members m
    where m.chat_id = message.chat_id and m.user_id <> message.sender_id and not m.muted
    on conflict (recipient_id, kind, subject_id) where subject_id is not null
      do update set content = excluded.content, title = excluded.title;
end;
$$;
comment on function app_private.chat_message_notifications(app_public.messages) is E'@module messaging\n'
  'A new message''s notifications: at most one unread instant notification per chat and recipient '
  '(members but the sender, unless muted).';

create function app_public.send_message(chat_id uuid, body text, image_sha256 text default null,
                                        reply_to_id uuid default null) returns app_public.messages
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_chat app_public.chats;
  v_message app_public.messages;
begin
  perform app_private.assert_module_access('messaging');
  select * into v_chat from app_public.chats c
    where c.id = send_message.chat_id and c.tenant_id = app_public.current_tenant_id()
      and app_hidden.is_chat_member(c.id);
  if v_chat.id is null then
    raise exception 'No such chat' using errcode = 'TNFND';
  end if;
  if send_message.body is null or length(send_message.body) not between 1 and 4000 or send_message.body !~ '\S' then
    raise exception 'A message has 1 to 4000 characters, not only spaces' using errcode = 'TVALD',
      detail = json_build_object('field', 'body', 'reason', 'INVALID_BODY')::text;
  end if;
  if send_message.image_sha256 is not null and not exists (
       select 1 from app_public.images i
       where i.tenant_id = v_chat.tenant_id and i.sha256 = send_message.image_sha256) then
    raise exception 'No such image' using errcode = 'TVALD',
      detail = json_build_object('field', 'imageSha256', 'reason', 'NO_SUCH_IMAGE')::text;
  end if;
  if send_message.reply_to_id is not null and not exists (
       select 1 from app_public.messages msg where msg.id = send_message.reply_to_id and msg.chat_id = v_chat.id) then
    raise exception 'A reply is to a message of the same chat' using errcode = 'TVALD',
      detail = json_build_object('field', 'replyToId', 'reason', 'NOT_IN_CHAT')::text;
  end if;
  insert into app_public.messages (tenant_id, chat_id, sender_id, body, image_sha256, reply_to_id)
    values (v_chat.tenant_id, v_chat.id, app_public.current_user_id(), send_message.body, send_message.image_sha256,
            send_message.reply_to_id)
    returning * into v_message;
  update app_public.chats c set last_message_at = v_message.created_at where c.id = v_chat.id;
  perform app_private.chat_message_notifications(v_message);
  return v_message;
end;
$$;
comment on function app_public.send_message(uuid, text, text, uuid) is E'@module messaging\n@resultFieldName message\n'
  'Sends a message to a chat of the signed-in user: 1 to 4,000 characters, an optional image of the tenant '
  '(its sha256), an optional reply to a message of the chat.';
revoke execute on function app_public.send_message(uuid, text, text, uuid) from public;
grant execute on function app_public.send_message(uuid, text, text, uuid) to :DATABASE_VISITOR;

create function app_public.edit_message(message_id uuid, body text) returns app_public.messages
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_message app_public.messages;
begin
  perform app_private.assert_module_access('messaging');
  select * into v_message from app_public.messages msg
    where msg.id = edit_message.message_id and msg.tenant_id = app_public.current_tenant_id()
      and app_hidden.is_chat_member(msg.chat_id)
    for update;
  if v_message.id is null then
    raise exception 'No such message' using errcode = 'TNFND';
  end if;
  if v_message.sender_id is distinct from app_public.current_user_id() then
    raise exception 'Only its sender edits a message' using errcode = 'TFORB';
  end if;
  if v_message.deleted_at is not null then
    raise exception 'The message was deleted' using errcode = 'TCONF',
      detail = json_build_object('reason', 'DELETED')::text;
  end if;
  if edit_message.body is null or length(edit_message.body) not between 1 and 4000 or edit_message.body !~ '\S' then
    raise exception 'A message has 1 to 4000 characters, not only spaces' using errcode = 'TVALD',
      detail = json_build_object('field', 'body', 'reason', 'INVALID_BODY')::text;
  end if;
  update app_public.messages msg set body = edit_message.body, edited_at = now()
    where msg.id = v_message.id returning * into v_message;
  return v_message;
end;
$$;
comment on function app_public.edit_message(uuid, text) is E'@module messaging\n@resultFieldName message\n'
  'Changes the body of a message (its sender only).';
revoke execute on function app_public.edit_message(uuid, text) from public;
grant execute on function app_public.edit_message(uuid, text) to :DATABASE_VISITOR;

create function app_public.delete_message(message_id uuid) returns app_public.messages
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_message app_public.messages;
begin
  perform app_private.assert_module_access('messaging');
  select * into v_message from app_public.messages msg
    where msg.id = delete_message.message_id and msg.tenant_id = app_public.current_tenant_id()
      and app_hidden.is_chat_member(msg.chat_id)
    for update;
  if v_message.id is null then
    raise exception 'No such message' using errcode = 'TNFND';
  end if;
  if v_message.sender_id is distinct from app_public.current_user_id() then
    raise exception 'Only its sender deletes a message' using errcode = 'TFORB';
  end if;
  if v_message.deleted_at is null then
    update app_public.messages msg set body = null, image_sha256 = null, deleted_at = now()
      where msg.id = v_message.id returning * into v_message;
  end if;
  return v_message;
end;
$$;
comment on function app_public.delete_message(uuid) is E'@module messaging\n@resultFieldName message\n'
  'Deletes a message (its sender only): it keeps its place, its body and image are cleared.';
revoke execute on function app_public.delete_message(uuid) from public;
grant execute on function app_public.delete_message(uuid) to :DATABASE_VISITOR;

create function app_public.mark_chat_read(chat_id uuid) returns app_public.chat_members
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_member app_public.chat_members;
begin
  perform app_private.assert_module_access('messaging');
  update app_public.chat_members m set last_read_at = greatest(m.last_read_at, now())
    where m.chat_id = mark_chat_read.chat_id and m.user_id = app_public.current_user_id()
      and m.tenant_id = app_public.current_tenant_id()
    returning * into v_member;
  if v_member.chat_id is null then
    raise exception 'No such chat' using errcode = 'TNFND';
  end if;
  update app_public.instant_notifications n set acked_at = now()
    where n.recipient_id = v_member.user_id and n.kind = 'chat_message' and n.subject_id = v_member.chat_id
      and n.acked_at is null;
  return v_member;
end;
$$;
comment on function app_public.mark_chat_read(uuid) is E'@module messaging\n@resultFieldName chatMember\n'
  'Marks a chat read up to now for the signed-in user, and acknowledges its notification.';
revoke execute on function app_public.mark_chat_read(uuid) from public;
grant execute on function app_public.mark_chat_read(uuid) to :DATABASE_VISITOR;

--! split: 3-builds.sql
--------------------------------------------------------------------------------------------------
-- 3-builds: builds of a tenant's configuration and the releases made from them (docs/builds.md).
--
-- A holder of builds.manage requests a build (app_public.request_build): the build row (queued,
-- with a snapshot of the tenant's enabled modules), the build_requested domain event and the
-- run_build job are written in the caller's transaction, so a rolled-back request leaves none of
-- them. The worker's run_build task moves it to running (app_private.start_build), appends its
-- output as numbered log lines (app_private.append_build_log, which answers the build's status so
-- the job notices a cancel) and ends it (app_private.finish_build: succeeded or failed, only from
-- running). cancel_build ends a queued or running build; the job stops its command on its next
-- check. A succeeded build becomes the tenant's active release (activate_release), superseding the
-- previous one; rollback_release marks the active one rolled_back and re-activates the one it
-- superseded. Both take the tenant's release lock (a transaction advisory lock), and a partial
-- unique index keeps at most one active release per tenant. Changes are NOTIFYed on
-- tenant:<id>:builds ({id, status, fromLine, toLine}) for the buildUpdated subscription.

drop function if exists app_public.request_build();
drop function if exists app_public.cancel_build(uuid);
drop function if exists app_public.activate_release(uuid);
drop function if exists app_public.rollback_release();
drop function if exists app_private.lock_releases(uuid);
drop function if exists app_private.start_build(uuid);
drop function if exists app_private.append_build_log(uuid, text[], text[]);
drop function if exists app_private.finish_build(uuid, text, text);
drop function if exists app_private.build_status(uuid);
drop function if exists app_private.add_build_lines(uuid, text[], text[]);
drop table if exists app_public.releases cascade;
drop table if exists app_public.build_log_lines cascade;
drop table if exists app_public.builds cascade;
drop function if exists app_private.tg_builds__notify();

insert into app_public.modules (name, description)
  values ('builds', 'Builds of the tenant''s configuration, with live logs, and the releases made from them.')
  on conflict (name) do nothing;

insert into app_public.permissions (name, description)
  values ('builds.manage', 'Request, follow and cancel builds; activate and roll back releases.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'builds.manage'), ('admin', 'builds.manage')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- Builds and their log lines.

create table app_public.builds (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  requested_by uuid,
  modules text[] not null default '{}',
  status text not null default 'queued'
    check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  line_count integer not null default 0 check (line_count >= 0),
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  foreign key (tenant_id, requested_by) references app_public.users (tenant_id, id) on delete set null (requested_by)
);
create unique index builds_tenant_id_id_key on app_public.builds (tenant_id, id);
create index builds_tenant_created_idx on app_public.builds (tenant_id, created_at desc);
create index builds_requested_by_idx on app_public.builds (tenant_id, requested_by);
comment on table app_public.builds is E'@module builds\n@behavior -insert -update -delete\n'
  'A build of the tenant''s configuration: who asked, the modules enabled then, its status and its log.';
comment on column app_public.builds.modules is 'The tenant''s enabled modules when the build was requested.';
comment on column app_public.builds.status is 'queued, running, succeeded, failed or cancelled.';
comment on column app_public.builds.line_count is 'How many log lines the build has (the last line''s number).';
comment on constraint builds_tenant_id_requested_by_fkey on app_public.builds is E'@behavior -*';

alter table app_public.builds enable row level security;
create policy select_builds_manage on app_public.builds for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('builds'))
  and (select app_public.current_user_has_permission('builds.manage')));
grant select on app_public.builds to :DATABASE_VISITOR;

create table app_public.build_log_lines (
  tenant_id uuid not null references app_public.tenants on delete cascade,
  build_id uuid not null,
  line_number integer not null check (line_number >= 1),
  stream text not null check (stream in ('stdout', 'stderr', 'system')),
  text text not null,
  created_at timestamptz not null default now(),
  primary key (build_id, line_number),
  foreign key (tenant_id, build_id) references app_public.builds (tenant_id, id) on delete cascade
);
create index build_log_lines_tenant_build_idx on app_public.build_log_lines (tenant_id, build_id, line_number);
comment on table app_public.build_log_lines is E'@module builds\n@behavior -insert -update -delete\n'
  'One line of a build''s output: its number, stream (stdout, stderr or system) and text.';
comment on constraint build_log_lines_tenant_id_build_id_fkey on app_public.build_log_lines is
  E'@fieldName build\n@foreignFieldName logLines';
alter table app_public.build_log_lines enable row level security;
create policy select_builds_manage on app_public.build_log_lines for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('builds'))
  and (select app_public.current_user_has_permission('builds.manage')));
grant select on app_public.build_log_lines to :DATABASE_VISITOR;

create function app_private.tg_builds__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.status is distinct from old.status or new.line_count is distinct from old.line_count then
    perform pg_notify('tenant:' || new.tenant_id::text || ':builds',
                      json_build_object('id', new.id, 'status', new.status,
                                        'fromLine', old.line_count, 'toLine', new.line_count)::text);
  end if;
  return null;
end;
$$;
comment on function app_private.tg_builds__notify() is E'@module builds\n'
  'After a build changes: NOTIFY tenant:<id>:builds with its id, status and the range of its new log lines.';
create trigger _500_notify after update on app_public.builds
  for each row execute function app_private.tg_builds__notify();

-- Appends lines to a build (no check of its status: a cancelled build still gets its last lines).
create function app_private.add_build_lines(build_id uuid, streams text[], texts text[]) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
  v_count integer := coalesce(cardinality(add_build_lines.texts), 0);
begin
  if v_count = 0 then
    return;
  end if;
  if coalesce(cardinality(add_build_lines.streams), 0) <> v_count then
    raise exception 'One stream per line' using errcode = 'TVALD';
  end if;
  update app_public.builds b set line_count = b.line_count + v_count
    where b.id = add_build_lines.build_id returning * into v_build;
  if v_build.id is null then
    return;
  end if;
  insert into app_public.build_log_lines (tenant_id, build_id, line_number, stream, text)
    select v_build.tenant_id, v_build.id, v_build.line_count - v_count + l.n::integer, l.stream, l.text
    from unnest(add_build_lines.streams, add_build_lines.texts) with ordinality as l(stream, text, n);
end;
$$;
comment on function app_private.add_build_lines(uuid, text[], text[]) is E'@module builds\n'
  'Appends numbered log lines (streams and texts, in order) to a build.';

--------------------------------------------------------------------------------------------------
-- Requesting and cancelling (requests), running (the worker, as the owner).

create function app_public.request_build() returns app_public.builds
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  insert into app_public.builds (tenant_id, requested_by, modules)
    values (app_public.current_tenant_id(), app_public.current_user_id(),
            array(select tm.module from app_public.tenant_modules tm
                  where tm.tenant_id = app_public.current_tenant_id() and tm.enabled order by tm.module))
    returning * into v_build;
  perform app_private.publish_event('build_requested', v_build.tenant_id, 'build', v_build.id::text,
                                    jsonb_build_object('buildId', v_build.id, 'requestedBy', v_build.requested_by,
                                                       'modules', to_jsonb(v_build.modules)));
  perform app_private.enqueue_job('run_build', json_build_object('tenantId', v_build.tenant_id, 'buildId', v_build.id),
                                  job_key => 'run_build:' || v_build.id, max_attempts => 3);
  return v_build;
end;
$$;
comment on function app_public.request_build() is E'@module builds\n@resultFieldName build\n'
  'Requests a build of the caller''s tenant (needs builds.manage): queued, with the enabled modules, its '
  'build_requested event and its run_build job, all in the caller''s transaction.';
revoke execute on function app_public.request_build() from public;
grant execute on function app_public.request_build() to :DATABASE_VISITOR;

create function app_public.cancel_build(id uuid) returns app_public.builds
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  select * into v_build from app_public.builds b
    where b.id = cancel_build.id and b.tenant_id = app_public.current_tenant_id()
    for update;
  if v_build.id is null then
    raise exception 'No such build' using errcode = 'TNFND';
  end if;
  if v_build.status not in ('queued', 'running') then
    raise exception 'Only a queued or running build can be cancelled; this one is %', v_build.status
      using errcode = 'TCONF', detail = json_build_object('reason', 'BUILD_FINISHED', 'status', v_build.status)::text;
  end if;
  perform app_private.add_build_lines(v_build.id, array['system'], array['build cancelled']);
  update app_public.builds b set status = 'cancelled', finished_at = now()
    where b.id = v_build.id returning * into v_build;
  perform app_private.remove_job('run_build:' || v_build.id);
  return v_build;
end;
$$;
comment on function app_public.cancel_build(uuid) is E'@module builds\n@resultFieldName build\n'
  'Cancels a queued or running build (needs builds.manage); a running command is stopped by its job. '
  'A finished build is a CONFLICT.';
revoke execute on function app_public.cancel_build(uuid) from public;
grant execute on function app_public.cancel_build(uuid) to :DATABASE_VISITOR;

-- The job's start: queued → running. A build a dead run left running is failed (its command's fate
-- is unknown; it is never run twice). Returns the build's status after the call (null: no build).
create function app_private.start_build(build_id uuid, out status text, out tenant_id uuid, out modules text[])
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  select * into v_build from app_public.builds b where b.id = start_build.build_id for update;
  if v_build.id is null then
    return;
  end if;
  if v_build.status = 'running' then
    perform app_private.add_build_lines(v_build.id, array['system'],
                                        array['build interrupted: the worker stopped while it ran']);
    update app_public.builds b set status = 'failed', finished_at = now()
      where b.id = v_build.id returning * into v_build;
  elsif v_build.status = 'queued' then
    update app_public.builds b set status = 'running', started_at = now()
      where b.id = v_build.id returning * into v_build;
  end if;
  status := v_build.status;
  tenant_id := v_build.tenant_id;
  modules := v_build.modules;
end;
$$;
comment on function app_private.start_build(uuid) is E'@module builds\n'
  'A run_build job starts: queued becomes running; a build left running by a dead run fails. Returns its status.';

create function app_private.append_build_log(build_id uuid, streams text[], texts text[]) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.add_build_lines(append_build_log.build_id, append_build_log.streams, append_build_log.texts);
  return (select b.status from app_public.builds b where b.id = append_build_log.build_id);
end;
$$;
comment on function app_private.append_build_log(uuid, text[], text[]) is E'@module builds\n'
  'Appends a job''s output lines to its build; returns the build''s status (cancelled: stop).';

create function app_private.build_status(build_id uuid) returns text
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select b.status from app_public.builds b where b.id = build_status.build_id;
$$;
comment on function app_private.build_status(uuid) is E'@module builds\nA build''s status (the job''s cancel check).';

create function app_private.finish_build(build_id uuid, outcome text, line text default null) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  if finish_build.outcome not in ('succeeded', 'failed') then
    raise exception 'Unknown outcome %', finish_build.outcome using errcode = 'TVALD';
  end if;
  select * into v_build from app_public.builds b where b.id = finish_build.build_id for update;
  if v_build.id is null or v_build.status <> 'running' then
    return v_build.status;
  end if;
  if finish_build.line is not null then
    perform app_private.add_build_lines(v_build.id, array['system'], array[finish_build.line]);
  end if;
  update app_public.builds b set status = finish_build.outcome, finished_at = now()
    where b.id = v_build.id returning * into v_build;
  return v_build.status;
end;
$$;
comment on function app_private.finish_build(uuid, text, text) is E'@module builds\n'
  'Ends a running build (succeeded or failed, with a last system line); any other status is left as it is.';

--------------------------------------------------------------------------------------------------
-- Releases.

create table app_public.releases (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  build_id uuid not null,
  status text not null default 'active' check (status in ('active', 'superseded', 'rolled_back')),
  activated_by uuid,
  activated_at timestamptz not null default now(),
  superseded_at timestamptz,
  rolled_back_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, build_id) references app_public.builds (tenant_id, id) on delete cascade,
  foreign key (tenant_id, activated_by) references app_public.users (tenant_id, id) on delete set null (activated_by)
);
create unique index releases_one_active_idx on app_public.releases (tenant_id) where status = 'active';
create index releases_build_idx on app_public.releases (tenant_id, build_id);
create index releases_activated_by_idx on app_public.releases (tenant_id, activated_by);
create index releases_tenant_activated_idx on app_public.releases (tenant_id, activated_at desc);
comment on table app_public.releases is E'@module builds\n@behavior -insert -update -delete\n'
  'A succeeded build put live: at most one active release per tenant; earlier ones superseded or rolled back.';
comment on column app_public.releases.status is 'active, superseded (by a later activation) or rolled_back.';
comment on constraint releases_tenant_id_build_id_fkey on app_public.releases is
  E'@fieldName build\n@foreignFieldName releases';
comment on constraint releases_tenant_id_activated_by_fkey on app_public.releases is E'@behavior -*';
alter table app_public.releases enable row level security;
create policy select_builds_manage on app_public.releases for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('builds'))
  and (select app_public.current_user_has_permission('builds.manage')));
grant select on app_public.releases to :DATABASE_VISITOR;

-- One activation or rollback per tenant at a time (until the transaction ends).
create function app_private.lock_releases(tenant_id uuid) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select pg_advisory_xact_lock(hashtext('app_public.releases'), hashtext(lock_releases.tenant_id::text));
$$;
comment on function app_private.lock_releases(uuid) is E'@module builds\n'
  'Takes the tenant''s release lock until the transaction ends (activations and rollbacks wait in turn).';

create function app_public.activate_release(build_id uuid) returns app_public.releases
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_public.current_tenant_id();
  v_build app_public.builds;
  v_release app_public.releases;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  perform app_private.lock_releases(v_tenant);
  select * into v_build from app_public.builds b where b.id = activate_release.build_id and b.tenant_id = v_tenant;
  if v_build.id is null then
    raise exception 'No such build' using errcode = 'TNFND';
  end if;
  if v_build.status <> 'succeeded' then
    raise exception 'Only a succeeded build can be released; this one is %', v_build.status
      using errcode = 'TCONF',
            detail = json_build_object('reason', 'BUILD_NOT_SUCCEEDED', 'status', v_build.status)::text;
  end if;
  select * into v_release from app_public.releases r where r.tenant_id = v_tenant and r.status = 'active';
  if v_release.build_id = v_build.id then
    return v_release;
  end if;
  update app_public.releases r set status = 'superseded', superseded_at = now()
    where r.tenant_id = v_tenant and r.status = 'active';
  insert into app_public.releases (tenant_id, build_id, activated_by)
    values (v_tenant, v_build.id, app_public.current_user_id())
    returning * into v_release;
  return v_release;
end;
$$;
comment on function app_public.activate_release(uuid) is E'@module builds\n@resultFieldName release\n'
  'Makes a succeeded build of the caller''s tenant the active release, superseding the previous one (needs '
  'builds.manage; under the tenant''s release lock). Activating the active build again changes nothing.';
revoke execute on function app_public.activate_release(uuid) from public;
grant execute on function app_public.activate_release(uuid) to :DATABASE_VISITOR;

create function app_public.rollback_release() returns app_public.releases
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_public.current_tenant_id();
  v_active app_public.releases;
  v_previous app_public.releases;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  perform app_private.lock_releases(v_tenant);
  select * into v_active from app_public.releases r where r.tenant_id = v_tenant and r.status = 'active';
  if v_active.id is null then
    raise exception 'There is no active release' using errcode = 'TCONF',
      detail = json_build_object('reason', 'NO_ACTIVE_RELEASE')::text;
  end if;
  select * into v_previous from app_public.releases r
    where r.tenant_id = v_tenant and r.status = 'superseded'
    order by r.superseded_at desc, r.activated_at desc limit 1;
  if v_previous.id is null then
    raise exception 'There is no previous release to go back to' using errcode = 'TCONF',
      detail = json_build_object('reason', 'NO_PREVIOUS_RELEASE')::text;
  end if;
  update app_public.releases r set status = 'rolled_back', rolled_back_at = now() where r.id = v_active.id;
  update app_public.releases r
    set status = 'active', superseded_at = null, activated_at = now(), activated_by = app_public.current_user_id()
    where r.id = v_previous.id returning * into v_previous;
  return v_previous;
end;
$$;
comment on function app_public.rollback_release() is E'@module builds\n@resultFieldName release\n'
  'Marks the active release rolled_back and re-activates the one it superseded (needs builds.manage; under '
  'the tenant''s release lock). No active or no previous release is a CONFLICT.';
revoke execute on function app_public.rollback_release() from public;
grant execute on function app_public.rollback_release() to :DATABASE_VISITOR;
