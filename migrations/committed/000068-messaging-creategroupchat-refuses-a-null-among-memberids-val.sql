--! Previous: sha1:b6109e4127a6e4ca9d5595663225aef320bd8c8a
--! Hash: sha1:1b3dd09860373d17c475511053e8319e3433ae5f
--! Message: Messaging: createGroupChat refuses a null among memberIds (VALIDATION_FAILED NULL_ITEM)

--! split: 080-messaging.sql
-- createGroupChat refuses a null among memberIds (VALIDATION_FAILED, reason NULL_ITEM).
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
A new group chat: the signed-in user its owner, the given users of the tenant its members (at most 200 in all); a null among memberIds is VALIDATION_FAILED (NULL_ITEM).';
