--! Previous: sha1:a1ac043b13d9790f5f2a91e6ad8f8a58f617dd4c
--! Hash: sha1:91880d0302ac1eca47830b733245ae6325bbbebf
--! Message: Events switch back on as the request role; messaging adds wait for a user's deletion

--! split: 050-events.sql
-- Switching events back on, by setTenantModule as the request role, failed FORBIDDEN for a tenant
-- with an upcoming event: the trigger (000087) scheduled the reminders as the caller, who may not
-- call app_private's functions. It runs as its owner now, as the other module-switch triggers do.
create or replace function app_private.tg_tenant_modules__events_on()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_event uuid;
begin
  for v_event in
    select e.id from app_public.events e
    where e.tenant_id = new.tenant_id and e.rejected_at is null and e.starts_at > now()
  loop
    perform app_private.schedule_event_reminders(v_event);
  end loop;
  return null;
end;
$function$;
comment on function app_private.tg_tenant_modules__events_on() is '@module events
The events module switched back on: the reminders of the tenant''s upcoming events are scheduled again (one that fell due while it was off is sent at once).';

--! split: 070-messaging.sql
-- deleteUser racing addChatMember or createGroupChat left the deleted user a member (the trigger
-- that ends their memberships saw only those committed before it), and a group could then pass to
-- them. Each function now share-locks the users it adds before it checks them, and before it locks a
-- chat: deleteUser locks the user's row, then their groups, in that order too.
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
  v_alive boolean;
begin
  perform app_private.assert_module_access('messaging');
  -- The user's row first, share-locked (deleteUser locks it, then the user's groups): a deletion
  -- committing meanwhile is seen, and one after it finds the membership to end.
  perform 1 from app_public.users u
    where u.id = add_chat_member.user_id and u.tenant_id = v_tenant and u.deleted_at is null and not u.is_system
    for share;
  v_alive := found;
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
  if not v_alive then
    raise exception 'No such user' using errcode = 'TNFND', detail = '{"field":"userId"}';
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
comment on function app_public.add_chat_member(uuid,uuid) is '@module messaging
@resultFieldName chatMember
Adds a user of the tenant to a group chat (its owners only; at most 200 members, the owner included); adding a member again changes nothing.';

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
  -- The members' rows share-locked, in one order, before they are checked: a deletion committing
  -- meanwhile is seen (the deleted user had joined the new group after leaving every other).
  perform 1 from app_public.users u where u.id = any(v_ids) order by u.id for share;
  -- The first unknown id as given (the list above is sorted).
  select x into v_unknown from unnest(create_group_chat.member_ids) with ordinality as given(x, n)
    where x <> v_me and not exists (
      select 1 from app_public.users u
      where u.id = x and u.tenant_id = v_tenant and u.deleted_at is null and not u.is_system)
    order by n
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

create or replace function app_public.start_direct_chat(user_id uuid)
 RETURNS app_public.chats
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  -- Share-locked, as addChatMember does: a deletion committing meanwhile is seen.
  perform 1 from app_public.users u
    where u.id = start_direct_chat.user_id and u.tenant_id = v_tenant and u.deleted_at is null and not u.is_system
    for share;
  if not found then
    raise exception 'No such user' using errcode = 'TNFND', detail = '{"field":"userId"}';
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
$function$;
comment on function app_public.start_direct_chat(uuid) is '@module messaging
@resultFieldName chat
The direct chat between the signed-in user and another user of the tenant: made the first time, the same chat afterwards.';
