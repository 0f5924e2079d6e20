--! Previous: sha1:54d31e66195b743188b107ffc0dc78c8b209d553
--! Hash: sha1:b55ce90c8a5dde2008891f9dfd54fe260848145c
--! Message: Messaging and builds after an outside attack: no chats with the system user, invisible-only bodies refused, notifications without the text; at most 5 active builds per tenant, one build queue per tenant, no output after a cancel

--! split: 1-current.sql
-- Enter migration here

--! split: 2-messaging.sql
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

--! split: 3-builds.sql
-- Builds after an outside attack: at most 5 builds of a tenant queued or running at a time (one
-- request could queue hundreds), their jobs one at a time per tenant (a tenant's builds hold one
-- worker slot), and a build that is no longer running takes no more output.

create or replace function app_public.request_build() returns app_public.builds
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  -- One request at a time per tenant past this point, so the count below stays true.
  perform pg_advisory_xact_lock(hashtextextended('tessera.request_build:' || app_public.current_tenant_id(), 0));
  if (select count(*) from app_public.builds b
      where b.tenant_id = app_public.current_tenant_id() and b.status in ('queued', 'running')) >= 5 then
    raise exception 'At most 5 builds may be queued or running; wait for one to finish or cancel one'
      using errcode = 'TCONF', detail = json_build_object('reason', 'TOO_MANY_BUILDS')::text;
  end if;
  insert into app_public.builds (tenant_id, requested_by, modules)
    values (app_public.current_tenant_id(), app_public.current_user_id(),
            array(select tm.module from app_public.tenant_modules tm
                  where tm.tenant_id = app_public.current_tenant_id() and tm.enabled order by tm.module))
    returning * into v_build;
  perform app_private.publish_event('build_requested', v_build.tenant_id, 'build', v_build.id::text,
                                    jsonb_build_object('buildId', v_build.id, 'requestedBy', v_build.requested_by,
                                                       'modules', to_jsonb(v_build.modules)));
  perform app_private.enqueue_job('run_build', json_build_object('tenantId', v_build.tenant_id, 'buildId', v_build.id),
                                  job_key => 'run_build:' || v_build.id, max_attempts => 3,
                                  queue_name => 'builds_' || v_build.tenant_id);
  return v_build;
end;
$$;

create or replace function app_private.append_build_log(build_id uuid, streams text[], texts text[]) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_status text;
begin
  -- Under the build's row lock, so a cancel is either before (no lines) or after (the lines first).
  select b.status into v_status from app_public.builds b where b.id = append_build_log.build_id for update;
  if v_status = 'running' then
    perform app_private.add_build_lines(append_build_log.build_id, append_build_log.streams, append_build_log.texts);
  end if;
  return v_status;
end;
$$;
