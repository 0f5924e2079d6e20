--! Previous: sha1:366f2c0f97617058c0e9c204949da83253fa54e3
--! Hash: sha1:51bd03e688d6587c1d108e5908f50141814e13b4
--! Message: Broadcasts: a broadcast is created only while the tenant has commerce switched on too

--! split: 090-broadcasts.sql
-- Broadcasts: a broadcast goes to the store's bots and customers, so it is created only while the
-- tenant has commerce switched on too (FORBIDDEN otherwise, as for the store's own writes).

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
  return new;
end;
$$;
comment on function app_private.tg_broadcasts__check() is '@module broadcasts
Before a broadcast is created: the caller signed in with broadcasts.manage, and commerce switched on for the tenant (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; its bot active and with a token (VALIDATION_FAILED).';
