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
