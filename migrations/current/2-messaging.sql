-- Messaging after an outside attack: the tenant's system user is nobody to chat with; a body of
-- invisible characters only (zero-width, non-breaking or ideographic spaces, direction marks) is as
-- blank as spaces; a notification names the sender, never the text (an edit or a deletion would not
-- reach a copy of it, nor an e-mail).

create or replace function app_public.start_direct_chat(user_id uuid) returns app_public.chats
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
                 where u.id = start_direct_chat.user_id and u.tenant_id = v_tenant and u.deleted_at is null
                   and not u.is_system) then
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

create or replace function app_public.create_group_chat(title text, member_ids uuid[]) returns app_public.chats
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
$$;

create or replace function app_public.add_chat_member(chat_id uuid, user_id uuid) returns app_public.chat_members
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
$$;

create or replace function app_private.chat_message_notifications(message app_public.messages) returns void
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
           left('New message from ' || v_sender, 5000),
           '/chats/' || message.chat_id, 'Open chat', message.chat_id
    from app_public.chat_members m
    where m.chat_id = message.chat_id and m.user_id <> message.sender_id and not m.muted
    on conflict (recipient_id, kind, subject_id) where subject_id is not null
      do update set content = excluded.content, title = excluded.title;
end;
$$;


alter table app_public.messages drop constraint if exists messages_body_visible;
alter table app_public.messages add constraint messages_body_visible check (
  deleted_at is not null
  or regexp_replace(body, '[\s\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]', '', 'g')
     <> '');
