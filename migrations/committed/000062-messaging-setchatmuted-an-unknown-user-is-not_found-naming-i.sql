--! Previous: sha1:a79a314d995a3c66bc24add393a5aa08cbefe0fe
--! Hash: sha1:3ed485f8e5bb6569393176161ced6a708da3224b
--! Message: Messaging: setChatMuted; an unknown user is NOT_FOUND naming its field (and, for a group, the id)

--! split: 070-messaging.sql
-- An unknown user names its field (and, in a group's list, which id it is).
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
A new group chat: the signed-in user its owner, the given users of the tenant its members (at most 200 in all).';

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
  if not exists (select 1 from app_public.users u
                 where u.id = start_direct_chat.user_id and u.tenant_id = v_tenant and u.deleted_at is null
                   and not u.is_system) then
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

-- A member mutes or unmutes a chat for themselves: a muted member gets no notifications for it. The
-- column existed, read by the notification trigger, but nothing could set it.
create or replace function app_public.set_chat_muted(chat_id uuid, muted boolean)
 RETURNS app_public.chat_members
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_member app_public.chat_members;
begin
  perform app_private.assert_module_access('messaging');
  if set_chat_muted.muted is null then
    raise exception 'muted is true or false' using errcode = 'TVALD', detail = '{"field":"muted"}';
  end if;
  update app_public.chat_members m set muted = set_chat_muted.muted
    where m.chat_id = set_chat_muted.chat_id and m.user_id = app_public.current_user_id()
      and m.tenant_id = app_public.current_tenant_id()
    returning * into v_member;
  if v_member.chat_id is null then
    raise exception 'No such chat' using errcode = 'TNFND';
  end if;
  return v_member;
end;
$function$;
comment on function app_public.set_chat_muted(uuid, boolean) is E'@module messaging\n@resultFieldName chatMember\n'
  'Mutes (or unmutes) a chat for the signed-in member: a muted member gets no notifications for it; its unread '
  'count still counts.';
revoke all on function app_public.set_chat_muted(uuid, boolean) from public;
grant execute on function app_public.set_chat_muted(uuid, boolean) to :DATABASE_VISITOR;
