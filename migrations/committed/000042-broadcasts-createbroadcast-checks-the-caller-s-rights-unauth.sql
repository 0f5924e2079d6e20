--! Previous: sha1:5743407297311072ad0bd673310dd467d65e6489
--! Hash: sha1:7064ff754242da9a38a13128d15454cb2febad28
--! Message: Broadcasts: createBroadcast checks the caller's rights (UNAUTHENTICATED, FORBIDDEN) before anything of the bot, so nobody without broadcasts.manage learns whether a bot exists, is active or has a token

--! split: 900-broadcasts.sql
-- createBroadcast: the caller's rights before the bot. This BEFORE INSERT trigger runs before the
-- row-level policy's WITH CHECK, so its bot checks answered a signed-out caller or a member without
-- broadcasts.manage whether a bot id exists, is active and has a token. The same guard as the
-- module's functions now comes first; a row for another tenant is left to the policy to refuse.
create or replace function app_private.tg_broadcasts__check() returns trigger
  language plpgsql security definer set search_path to pg_catalog, public, pg_temp as $$
begin
  if app_public.current_user_id() is not null then
    perform app_private.assert_module_access('broadcasts', 'broadcasts.manage');
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
  return new;
end;
$$;
comment on function app_private.tg_broadcasts__check() is '@module broadcasts
Before a broadcast is created: the caller signed in with broadcasts.manage (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; its bot active and with a token (VALIDATION_FAILED).';
