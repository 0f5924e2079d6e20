--! Previous: sha1:a71349034206c5f605e7b953b9a78928dfa49452
--! Hash: sha1:97dd86f332638157f123dc03ca3d6b691176b047
--! Message: Notifications, commerce, messaging: acknowledging notifications signed out is UNAUTHENTICATED; storeBalance refuses a currency that is not three capital letters; a group chat has at most 200 members, its owner included, also when members are added at once

--! split: 040-notifications.sql
-- Acknowledging notifications signed out is UNAUTHENTICATED, as every other mutation of a signed-in
-- user's own rows is (it answered 0 acked, or NOT_FOUND, and wrote nothing).

create or replace function app_public.ack_all_notifications()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_acked integer;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to read your notifications' using errcode = 'TAUTH';
  end if;
  with acked as (
    update app_public.instant_notifications n set acked_at = now()
    where n.recipient_id = app_public.current_user_id() and n.acked_at is null
    returning 1
  )
  select count(*)::integer into v_acked from acked;
  return v_acked;
end;
$function$;

create or replace function app_public.ack_notification(notification_id uuid)
 RETURNS app_public.instant_notifications
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_row app_public.instant_notifications;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to read your notifications' using errcode = 'TAUTH';
  end if;
  update app_public.instant_notifications n set acked_at = coalesce(n.acked_at, now())
    where n.id = ack_notification.notification_id and n.recipient_id = app_public.current_user_id()
    returning * into v_row;
  if v_row.id is null then
    raise exception 'No such notification' using errcode = 'TNFND';
  end if;
  return v_row;
end;
$function$;

--! split: 060-commerce.sql
-- storeBalance refuses a currency that is not three capital letters (VALIDATION_FAILED), as every
-- ledger entry does; "usd" or "" answered 0.00.

create or replace function app_public.store_balance(currency text DEFAULT NULL::text)
 RETURNS numeric
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  perform app_private.assert_module_access('commerce', 'orders.read');
  if store_balance.currency !~ '^[A-Z]{3}$' then
    raise exception 'A currency is three capital letters (ISO 4217)' using errcode = 'TVALD',
      detail = json_build_object('field', 'currency', 'reason', 'INVALID_CURRENCY')::text;
  end if;
  return (select coalesce(sum(t.amount), 0.00) from app_public.transactions t
          where t.tenant_id = app_public.current_tenant_id() and t.customer_id is null
            and t.currency = coalesce(store_balance.currency,
                                      app_private.store_currency(app_public.current_tenant_id())));
end;
$function$;

--! split: 070-messaging.sql
-- A group chat has at most 200 members, its owner included: createGroupChat took 200 others (201
-- in all), and addChatMember had no cap at all (30 parallel adds took a group of 195 to 225).

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
begin
  perform app_private.assert_module_access('messaging');
  if create_group_chat.title is null or length(create_group_chat.title) not between 1 and 200
     or create_group_chat.title !~ '\S' then
    raise exception 'A title of 1 to 200 characters is required' using errcode = 'TVALD',
      detail = json_build_object('field', 'title', 'reason', 'INVALID_TITLE')::text;
  end if;
  select coalesce(array_agg(distinct x), '{}') into v_ids
    from unnest(coalesce(create_group_chat.member_ids, '{}')) x where x <> v_me;
  if cardinality(v_ids) > 199 then
    raise exception 'At most 200 members, the owner included' using errcode = 'TVALD',
      detail = json_build_object('field', 'memberIds', 'reason', 'TOO_MANY')::text;
  end if;
  if (select count(*) from app_public.users u
      where u.id = any(v_ids) and u.tenant_id = v_tenant and u.deleted_at is null
                   and not u.is_system) <> cardinality(v_ids) then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  insert into app_public.chats (tenant_id, kind, title, created_by)
    values (v_tenant, 'group', create_group_chat.title, v_me) returning * into v_chat;
  insert into app_public.chat_members (tenant_id, chat_id, user_id, role)
    select v_tenant, v_chat.id, v_me, 'owner'
    union all select v_tenant, v_chat.id, x, 'member' from unnest(v_ids) x;
  return v_chat;
end;
$function$;

create or replace function app_public.add_chat_member(chat_id uuid, user_id uuid)
 RETURNS app_public.chat_members
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  -- The chat's row lock (above) serialises concurrent adds, so the count holds.
  if not exists (select 1 from app_public.chat_members m
                 where m.chat_id = v_chat.id and m.user_id = add_chat_member.user_id)
     and (select count(*) from app_public.chat_members m where m.chat_id = v_chat.id) >= 200 then
    raise exception 'At most 200 members, the owner included' using errcode = 'TVALD',
      detail = json_build_object('field', 'userId', 'reason', 'TOO_MANY')::text;
  end if;
  if not exists (select 1 from app_public.users u
                 where u.id = add_chat_member.user_id and u.tenant_id = v_tenant and u.deleted_at is null
                   and not u.is_system) then
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
$function$;

comment on function app_public.create_group_chat(text,uuid[]) is '@module messaging
@resultFieldName chat
A new group chat: the signed-in user its owner, the given users of the tenant its members (at most 200 in all).';
comment on function app_public.add_chat_member(uuid,uuid) is '@module messaging
@resultFieldName chatMember
Adds a user of the tenant to a group chat (its owners only; at most 200 members, the owner included); adding a member again changes nothing.';
