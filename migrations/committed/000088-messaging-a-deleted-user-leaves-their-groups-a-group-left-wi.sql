--! Previous: sha1:8673be8f423644ad2a0818634b493692ecf0a83a
--! Hash: sha1:6ddf54869a9a384b06b7baa0a126635256424ef9
--! Message: Messaging: a deleted user leaves their groups (a group left without an owner passes to its first member) and their direct chat takes no more; edit and delete stamps never go back; memberIds at most 200 ids; switching messaging off ends its chat subscriptions

--! split: 070-messaging.sql
-- Attack fixes in messaging.
--
-- A user deleted leaves their group chats: a group whose last owner they were passes to the member
-- who joined it first (it was left with a deleted owner, whom nobody could replace). Their direct
-- chats keep their history; a message to a deleted user is CONFLICT (USER_DELETED).
create or replace function app_private.tg_users__leave_chats() returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_chat uuid;
begin
  -- Each group's row is locked as remove_chat_member and add_chat_member lock it, in one order.
  for v_chat in
    select c.id from app_public.chats c
      join app_public.chat_members m on m.chat_id = c.id and m.user_id = new.id
    where c.tenant_id = new.tenant_id and c.kind = 'group'
    order by c.id
    for update of c
  loop
    delete from app_public.chat_members m where m.chat_id = v_chat and m.user_id = new.id;
    if not exists (select 1 from app_public.chat_members m where m.chat_id = v_chat and m.role = 'owner') then
      update app_public.chat_members m set role = 'owner'
        where (m.chat_id, m.user_id) = (
          select f.chat_id, f.user_id from app_public.chat_members f
          where f.chat_id = v_chat order by f.joined_at, f.user_id limit 1);
    end if;
  end loop;
  return null;
end;
$$;
comment on function app_private.tg_users__leave_chats() is '@module messaging
A user deleted: they leave their group chats, and a group left without an owner passes to the member who joined it first.';
revoke all on function app_private.tg_users__leave_chats() from public;
drop trigger if exists _510_leave_chats on app_public.users;
create trigger _510_leave_chats after update of deleted_at on app_public.users
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function app_private.tg_users__leave_chats();

-- Concurrent edits and a deletion take the row in turn, each stamped with its transaction's start:
-- a stamp is never earlier than the one before it (a deletion dated before the edit it followed).
create or replace function app_public.edit_message(message_id uuid, body text)
 RETURNS app_public.messages
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  update app_public.messages msg set body = edit_message.body, edited_at = greatest(now(), coalesce(v_message.edited_at, v_message.created_at))
    where msg.id = v_message.id returning * into v_message;
  return v_message;
end;
$function$;
comment on function app_public.edit_message(uuid,text) is '@module messaging
@resultFieldName message
Changes the body of a message (its sender only).';

create or replace function app_public.delete_message(message_id uuid)
 RETURNS app_public.messages
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
    update app_public.messages msg set body = null, image_sha256 = null, deleted_at = greatest(now(), coalesce(v_message.edited_at, v_message.created_at))
      where msg.id = v_message.id returning * into v_message;
  end if;
  return v_message;
end;
$function$;
comment on function app_public.delete_message(uuid) is '@module messaging
@resultFieldName message
Deletes a message (its sender only): it keeps its place, its body and image are cleared.';

create or replace function app_public.send_message(chat_id uuid, body text, image_sha256 text DEFAULT NULL::text, reply_to_id uuid DEFAULT NULL::uuid)
 RETURNS app_public.messages
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  -- A deleted user is no one to write to: their direct chat keeps its history, and takes no more.
  if v_chat.kind = 'direct' and exists (
       select 1 from app_public.users u
       where u.id in (v_chat.direct_user_a, v_chat.direct_user_b) and u.deleted_at is not null) then
    raise exception 'The other user of this direct chat was deleted' using errcode = 'TCONF',
      detail = json_build_object('reason', 'USER_DELETED')::text;
  end if;
  if send_message.body is null or length(send_message.body) not between 1 and 4000 or send_message.body !~ '\S' then
    raise exception 'A message has 1 to 4000 characters, not only spaces' using errcode = 'TVALD',
      detail = json_build_object('field', 'body', 'reason', 'INVALID_BODY')::text;
  end if;
  -- While media is off its images are invisible: one is as unknown as a hash that names none.
  if send_message.image_sha256 is not null and (
       not app_private.tenant_module_enabled(v_chat.tenant_id, 'media') or not exists (
       select 1 from app_public.images i
       where i.tenant_id = v_chat.tenant_id and i.sha256 = send_message.image_sha256)) then
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
$function$;
comment on function app_public.send_message(uuid,text,text,uuid) is '@module messaging
@resultFieldName message
Sends a message to a chat of the signed-in user: 1 to 4,000 characters, an optional image of the tenant (its sha256; none while media is off), an optional reply to a message of the chat. A direct chat with a deleted user takes no more (CONFLICT).';

-- memberIds holds at most 200 ids over GraphQL as over REST (REST refused a longer list; GraphQL
-- read any number and counted the distinct ones).
create or replace function app_public.create_group_chat(title text, member_ids uuid[])
 RETURNS app_public.chats
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_me uuid := app_public.current_user_id();
  v_tenant uuid := app_public.current_tenant_id();
  v_chat app_public.chats;
  v_ids uuid[];
  v_unknown uuid;
begin
  perform app_private.assert_module_access('messaging');
  if create_group_chat.title is null or length(create_group_chat.title) not between 1 and 200
     or create_group_chat.title !~ '\S' then
    raise exception 'A title of 1 to 200 characters is required' using errcode = 'TVALD',
      detail = json_build_object('field', 'title', 'reason', 'INVALID_TITLE')::text;
  end if;
  -- A null id names nobody: refused, not dropped (the group had been made without a word).
  if array_position(create_group_chat.member_ids, null) is not null then
    raise exception 'memberIds holds a null' using errcode = 'TVALD',
      detail = json_build_object('field', 'memberIds', 'reason', 'NULL_ITEM')::text;
  end if;
  -- At most 200 ids as given, as REST's body allows: a list no group could hold is not read.
  if cardinality(create_group_chat.member_ids) > 200 then
    raise exception 'At most 200 members, the owner included' using errcode = 'TVALD',
      detail = json_build_object('field', 'memberIds', 'reason', 'TOO_MANY')::text;
  end if;
  select coalesce(array_agg(distinct x), '{}') into v_ids
    from unnest(coalesce(create_group_chat.member_ids, '{}')) x where x <> v_me;
  if cardinality(v_ids) > 199 then
    raise exception 'At most 200 members, the owner included' using errcode = 'TVALD',
      detail = json_build_object('field', 'memberIds', 'reason', 'TOO_MANY')::text;
  end if;
  select x into v_unknown from unnest(v_ids) x
    where not exists (select 1 from app_public.users u
                      where u.id = x and u.tenant_id = v_tenant and u.deleted_at is null and not u.is_system)
    limit 1;
  if v_unknown is not null then
    raise exception 'No such user: %', v_unknown using errcode = 'TNFND',
      detail = json_build_object('field', 'memberIds', 'id', v_unknown)::text;
  end if;
  insert into app_public.chats (tenant_id, kind, title, created_by)
    values (v_tenant, 'group', create_group_chat.title, v_me) returning * into v_chat;
  insert into app_public.chat_members (tenant_id, chat_id, user_id, role)
    select v_tenant, v_chat.id, v_me, 'owner'
    union all select v_tenant, v_chat.id, x, 'member' from unnest(v_ids) x;
  return v_chat;
end;
$function$;
comment on function app_public.create_group_chat(text,uuid[]) is '@module messaging
@resultFieldName chat
A new group chat: the signed-in user its owner, the given users of the tenant its members (at most 200 in all, and at most 200 ids given); a null among memberIds is VALIDATION_FAILED (NULL_ITEM).';

-- Messaging switched off (or its row deleted) ends the tenant's chatMessageAdded streams at once:
-- an event naming no chat has each subscription check that it still sees its chat, which it does
-- not while the module is off. They stayed open and silent, and went on once it was back.
create or replace function app_private.tg_tenant_modules__messaging_off() returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('tenant:' || old.tenant_id::text || ':chats', json_build_object('op', 'module_off')::text);
  return null;
end;
$$;
comment on function app_private.tg_tenant_modules__messaging_off() is '@module messaging
Messaging switched off: NOTIFY the tenant''s chats topic, so every chatMessageAdded of the tenant ends at once.';
revoke all on function app_private.tg_tenant_modules__messaging_off() from public;
drop trigger if exists _900_messaging_off on app_public.tenant_modules;
create trigger _900_messaging_off after update of enabled on app_public.tenant_modules
  for each row when (old.enabled and not new.enabled and old.module = 'messaging')
  execute function app_private.tg_tenant_modules__messaging_off();
drop trigger if exists _900_messaging_off_deleted on app_public.tenant_modules;
create trigger _900_messaging_off_deleted after delete on app_public.tenant_modules
  for each row when (old.enabled and old.module = 'messaging')
  execute function app_private.tg_tenant_modules__messaging_off();
