--! Previous: sha1:51bd03e688d6587c1d108e5908f50141814e13b4
--! Hash: sha1:eaf3ddb334c23afdb31866eca0644968710b0696
--! Message: Images only while media is on (messages, products, broadcasts); broadcast deliveries read only while commerce is on

--! split: 060-commerce.sql
-- Commerce: a product takes a picture only while the tenant has media switched on. Images are
-- invisible while media is off, and the foreign key alone (which reads past row level security)
-- let a request point a product at one by its hash.

create or replace function app_private.tg_products__image_visible()
  returns trigger
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if tg_op = 'UPDATE' and new.image_sha256 is not distinct from old.image_sha256 then
    return new;
  end if;
  -- A request of a user; the owner's scripts and the worker are not held to the tenant's switches.
  if app_public.current_user_id() is not null
     and not app_private.tenant_module_enabled(new.tenant_id, 'media') then
    raise exception 'No such image' using errcode = 'TVALD',
      detail = json_build_object('field', 'imageSha256', 'reason', 'NO_SUCH_IMAGE')::text;
  end if;
  return new;
end;
$$;
comment on function app_private.tg_products__image_visible() is '@module commerce
Before a request gives a product a picture: the tenant has media switched on, or the image is as unknown as it is invisible (VALIDATION_FAILED, NO_SUCH_IMAGE).';

drop trigger if exists _200_image_visible on app_public.products;
create trigger _200_image_visible before insert or update of image_sha256 on app_public.products
  for each row when (new.image_sha256 is not null) execute function app_private.tg_products__image_visible();

--! split: 070-messaging.sql
-- Messaging: a message takes an image only while the tenant has media switched on (its images are
-- invisible then, and send_message, a security definer, had read past that).

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
Sends a message to a chat of the signed-in user: 1 to 4,000 characters, an optional image of the tenant (its sha256; none while media is off), an optional reply to a message of the chat.';

--! split: 090-broadcasts.sql
-- Broadcasts: an image only while the tenant has media switched on (its images are invisible then);
-- the deliveries, which name the store's customers and their Telegram chats, are read only while
-- commerce is switched on too, as the customers themselves are.

create or replace function app_private.tg_broadcasts__check()
  returns trigger
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_public.current_user_id() is not null then
    perform app_private.assert_module_access('broadcasts', 'broadcasts.manage');
    -- The bots and customers a broadcast goes to are the store's: with commerce off, there is none.
    perform app_private.assert_module_access('commerce', 'broadcasts.manage');
  elsif new.tenant_id is null then
    -- A request without a user (the worker and the owner's scripts always name the tenant).
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  -- What a request may not choose: the counts and the status start at their beginning.
  new.status := 'pending';
  new.total_count := 0; new.pending_count := 0; new.sent_count := 0; new.failed_count := 0; new.blocked_count := 0;
  new.started_at := null; new.completed_at := null; new.cancelled_at := null; new.notified_at := null;
  new.created_at := now(); new.updated_at := now();
  if app_public.current_user_id() is not null and new.tenant_id is distinct from app_public.current_tenant_id() then
    return new; -- another tenant's row: the policy refuses it, telling nothing of that tenant's bots
  end if;
  if not exists (select 1 from app_public.bots b
                 where b.tenant_id = new.tenant_id and b.id = new.bot_id and b.status = 'active') then
    raise exception 'The bot must be an active bot of the store'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'BOT_NOT_ACTIVE')::text;
  end if;
  if not exists (select 1 from app_private.bot_tokens t where t.bot_id = new.bot_id) then
    raise exception 'The bot has no Telegram token yet (setBotToken)'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'NO_BOT_TOKEN')::text;
  end if;
  -- While media is off its images are invisible: one is as unknown as a hash that names none.
  if new.image_sha256 is not null and app_public.current_user_id() is not null
     and not app_private.tenant_module_enabled(new.tenant_id, 'media') then
    raise exception 'No such image'
      using errcode = 'TVALD', detail = json_build_object('field', 'imageSha256', 'reason', 'NO_SUCH_IMAGE')::text;
  end if;
  return new;
end;
$$;
comment on function app_private.tg_broadcasts__check() is '@module broadcasts
Before a broadcast is created: the caller signed in with broadcasts.manage, and commerce switched on for the tenant (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; its bot active and with a token, and an image only while media is on (VALIDATION_FAILED).';

drop policy if exists select_broadcasts_manage on app_public.broadcast_deliveries;
create policy select_broadcasts_manage on app_public.broadcast_deliveries for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('broadcasts'))
  and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('broadcasts.manage')));
