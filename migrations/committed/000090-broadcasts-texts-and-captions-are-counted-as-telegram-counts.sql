--! Previous: sha1:069a14857bd037f0f9cde2c1c3fb05dbab5018bc
--! Hash: sha1:a1ac043b13d9790f5f2a91e6ad8f8a58f617dd4c
--! Message: Broadcasts: texts and captions are counted as Telegram counts them, in UTF-16 code units

--! split: 110-broadcasts.sql
-- Telegram counts a message's length in UTF-16 code units (4,096 for a text, 1,024 for a caption):
-- a character outside the Basic Multilingual Plane, most emoji, counts 2. The checks counted code
-- points, so a text of 2,049 to 4,096 such characters was taken and then refused by Telegram for
-- every customer.
create or replace function app_hidden.telegram_length(text text) returns integer
  language sql immutable strict parallel safe
  set search_path = pg_catalog, public, pg_temp
as $$
  select length(telegram_length.text)
         + length(regexp_replace(telegram_length.text, '[^\U00010000-\U0010FFFF]', '', 'g'));
$$;
comment on function app_hidden.telegram_length(text) is '@module broadcasts
The length of a text as Telegram counts it: UTF-16 code units (a character outside the Basic Multilingual Plane counts 2).';
revoke all on function app_hidden.telegram_length(text) from public;
grant execute on function app_hidden.telegram_length(text) to :DATABASE_VISITOR;

alter table app_public.broadcasts drop constraint if exists broadcasts_caption_length;
alter table app_public.broadcasts add constraint broadcasts_caption_length
  check (image_sha256 is null or app_hidden.telegram_length(text) <= 1024) not valid;
alter table app_public.broadcasts drop constraint if exists broadcasts_text_telegram_length;
alter table app_public.broadcasts add constraint broadcasts_text_telegram_length
  check (app_hidden.telegram_length(text) <= 4096) not valid;

create or replace function app_private.tg_broadcasts__check()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_bot_status text;
begin
  if app_public.current_user_id() is not null then
    -- The tenant's two module rows share-locked first, as the bot below: switching either off
    -- meanwhile waits for this broadcast and cancels it, or is waited for and refuses it.
    perform 1 from app_public.tenant_modules tm
      where tm.tenant_id = app_public.current_tenant_id() and tm.module in ('broadcasts', 'commerce')
      order by tm.module for share;
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
  new.started_at := null; new.completed_at := null; new.cancelled_at := null; new.cancelled_reason := null; new.notified_at := null;
  new.created_at := now(); new.updated_at := now();
  if app_public.current_user_id() is not null and new.tenant_id is distinct from app_public.current_tenant_id() then
    return new; -- another tenant's row: the policy refuses it, telling nothing of that tenant's bots
  end if;
  -- Locked (shared) to the end of the transaction: a bot being disabled meanwhile is waited for and
  -- read as it ends; a bot disabled after this waits for the broadcast to commit, and cancels it.
  select b.status into v_bot_status from app_public.bots b
    where b.tenant_id = new.tenant_id and b.id = new.bot_id for share;
  if v_bot_status is distinct from 'active' then
    raise exception 'The bot must be an active bot of the store'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'BOT_NOT_ACTIVE')::text;
  end if;
  if not exists (select 1 from app_private.bot_tokens t where t.bot_id = new.bot_id) then
    raise exception 'The bot has no Telegram token yet (setBotToken)'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'NO_BOT_TOKEN')::text;
  end if;
  -- The table's checks hold these too; here they name the field and say what is wrong.
  if new.image_sha256 is not null and app_hidden.telegram_length(new.text) > 1024 then
    raise exception 'With an image, the text is its caption: at most 1024 characters (an emoji may count 2)'
      using errcode = 'TVALD', detail = '{"field":"text","reason":"CAPTION_TOO_LONG"}';
  end if;
  if app_hidden.telegram_length(new.text) > 4096 then
    raise exception 'A broadcast''s text has at most 4096 characters (an emoji may count 2)'
      using errcode = 'TVALD', detail = '{"field":"text","reason":"TEXT_TOO_LONG"}';
  end if;
  if not app_private.broadcast_audience_valid(new.audience) then
    raise exception 'The audience is an object of at most "language" (2 or 3 lower-case letters) and '
      '"hasPaidOrder" (true or false); {} is everyone'
      using errcode = 'TVALD', detail = '{"field":"audience"}';
  end if;
  perform app_private.assert_image_usable(new.tenant_id, new.image_sha256);
  return new;
end;
$function$;
comment on function app_private.tg_broadcasts__check() is '@module broadcasts
Before a broadcast is created: the caller signed in with broadcasts.manage, and commerce switched on for the tenant (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; its bot active and with a token, and an image the tenant uploaded while media is on (VALIDATION_FAILED).';
