--! Previous: sha1:78545fc99e0773ae59e8efced8f60548e3c01ba9
--! Hash: sha1:5d1b19ad1e447b8171fc31df0ca322bf8c1f746a
--! Message: messaging: send_message takes the chat's row lock first, in the mode its update needs (sends, adds and removals of one chat deadlocked)

--! split: 070-messaging.sql
-- send_message locks the chat's row first, in the mode its update of the chat needs. Its insert
-- had share-locked the row through the message's foreign key (following another send's pending
-- update of it) while an owner's add or removal queued for the row: PostgreSQL found the two
-- waiting for each other and broke the cycle with "deadlock detected" (40P01), answered INTERNAL.
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
  -- The chat's row in the mode its update below needs, taken first: a send takes its turn with the
  -- other sends and with the owners' adds and removals before it writes anything.
  select * into v_chat from app_public.chats c
    where c.id = send_message.chat_id and c.tenant_id = app_public.current_tenant_id()
      and app_hidden.is_chat_member(c.id)
    for no key update;
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
