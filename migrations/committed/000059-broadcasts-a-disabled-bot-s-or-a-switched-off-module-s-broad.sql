--! Previous: sha1:93dcd588d23069e2b503ab967e1dd926f7fbc1c0
--! Hash: sha1:4ff33612aeaf919fd6f0a121493e03a3502119c8
--! Message: Broadcasts: a disabled bot's or a switched-off module's broadcasts, pending or sending, are cancelled with a reason; nothing more is sent

--! split: 090-broadcasts.sql
-- A broadcast whose bot stops being active, or whose tenant switches the broadcasts or commerce
-- module off, is cancelled at once, pending or sending: before, the scheduler started it and the
-- delivery jobs sent every message through the disabled bot, to customers the tenant no longer
-- served, while the admin could not even see it to stop it. Nothing resumes when they come back.
alter table app_public.broadcasts add column if not exists cancelled_reason text;
alter table app_public.broadcasts drop constraint if exists broadcasts_cancelled_reason_check;
alter table app_public.broadcasts add constraint broadcasts_cancelled_reason_check
  check (cancelled_reason in ('BOT_NOT_ACTIVE', 'MODULE_OFF'));
comment on column app_public.broadcasts.cancelled_reason is
  'Why the platform cancelled it: BOT_NOT_ACTIVE (its bot was disabled) or MODULE_OFF (the broadcasts or commerce '
  'module was switched off); null when a user cancelled it, or it was not cancelled.';
comment on column app_public.broadcasts.status is
  'pending, sending, completed or cancelled (by a user while pending; by the platform, pending or sending, '
  'with cancelledReason).';

create or replace function app_private.stop_broadcasts(tenant_id uuid, bot_id uuid, reason text)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_stopped uuid[];
begin
  with stopped as (
    update app_public.broadcasts b
      set status = 'cancelled', cancelled_at = now(), cancelled_reason = stop_broadcasts.reason
      where b.tenant_id = stop_broadcasts.tenant_id
        and (stop_broadcasts.bot_id is null or b.bot_id = stop_broadcasts.bot_id)
        and b.status in ('pending', 'sending')
      returning b.id
  )
  select coalesce(array_agg(s.id), '{}') into v_stopped from stopped s;
  -- A message being sent right now is recorded when its answer comes (finish_broadcast_batch
  -- settles it if it comes back to pending); none is claimed after this commits.
  update app_public.broadcast_deliveries d
    set status = 'failed', updated_at = now(), last_error = 'CANCELLED: ' || stop_broadcasts.reason
    where d.tenant_id = stop_broadcasts.tenant_id and d.broadcast_id = any (v_stopped) and d.status = 'pending';
  perform app_private.remove_job('broadcast_schedule:' || s.id) from unnest(v_stopped) s(id);
  return cardinality(v_stopped);
end;
$function$;
comment on function app_private.stop_broadcasts(uuid,uuid,text) is E'@module broadcasts\n'
  'Cancels the tenant''s pending and sending broadcasts (of one bot, or all) with the reason; their deliveries '
  'not yet sent fail with CANCELLED; returns how many.';

create or replace function app_private.tg_bots__stop_broadcasts()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  perform app_private.stop_broadcasts(new.tenant_id, new.id, 'BOT_NOT_ACTIVE');
  return null;
end;
$function$;
comment on function app_private.tg_bots__stop_broadcasts() is E'@module broadcasts\n'
  'After a bot stops being active: its pending and sending broadcasts are cancelled (BOT_NOT_ACTIVE).';
drop trigger if exists _900_stop_broadcasts on app_public.bots;
create trigger _900_stop_broadcasts after update of status on app_public.bots
  for each row when (old.status = 'active' and new.status <> 'active')
  execute function app_private.tg_bots__stop_broadcasts();

create or replace function app_private.tg_tenant_modules__stop_broadcasts()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  perform app_private.stop_broadcasts(old.tenant_id, null, 'MODULE_OFF');
  return null;
end;
$function$;
comment on function app_private.tg_tenant_modules__stop_broadcasts() is E'@module broadcasts\n'
  'After a tenant switches broadcasts or commerce off (or drops its row): its pending and sending broadcasts are '
  'cancelled (MODULE_OFF).';
drop trigger if exists _900_stop_broadcasts on app_public.tenant_modules;
create trigger _900_stop_broadcasts after update of enabled on app_public.tenant_modules
  for each row when (old.enabled and not new.enabled and old.module in ('broadcasts', 'commerce'))
  execute function app_private.tg_tenant_modules__stop_broadcasts();
drop trigger if exists _900_stop_broadcasts_deleted on app_public.tenant_modules;
create trigger _900_stop_broadcasts_deleted after delete on app_public.tenant_modules
  for each row when (old.enabled and old.module in ('broadcasts', 'commerce'))
  execute function app_private.tg_tenant_modules__stop_broadcasts();


-- A new broadcast starts with no cancellation reason, whatever the request sent.
create or replace function app_private.tg_broadcasts__check()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  new.started_at := null; new.completed_at := null; new.cancelled_at := null; new.cancelled_reason := null; new.notified_at := null;
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
  perform app_private.assert_image_usable(new.tenant_id, new.image_sha256);
  return new;
end;
$function$;
comment on function app_private.tg_broadcasts__check() is '@module broadcasts
Before a broadcast is created: the caller signed in with broadcasts.manage, and commerce switched on for the tenant (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; its bot active and with a token, and an image the tenant uploaded while media is on (VALIDATION_FAILED).';

-- The end of a batch of a cancelled broadcast leaves nothing pending to retry.
create or replace function app_private.finish_broadcast_batch(broadcast_id uuid, batch integer, last_attempt boolean)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_broadcast app_public.broadcasts;
  v_left integer;
begin
  select * into v_broadcast from app_public.broadcasts b where b.id = finish_broadcast_batch.broadcast_id;
  -- A message under way when the platform cancelled the broadcast may have come back to pending.
  if v_broadcast.status = 'cancelled' then
    update app_public.broadcast_deliveries d
      set status = 'failed', updated_at = now(),
          last_error = 'CANCELLED: ' || coalesce(v_broadcast.cancelled_reason, 'by a user')
      where d.broadcast_id = finish_broadcast_batch.broadcast_id and d.batch = finish_broadcast_batch.batch
        and d.status = 'pending';
  elsif last_attempt then
    update app_public.broadcast_deliveries d
      set status = 'failed', updated_at = now(), last_error = coalesce(d.last_error, 'gave up')
      where d.broadcast_id = finish_broadcast_batch.broadcast_id and d.batch = finish_broadcast_batch.batch
        and d.status = 'pending';
  end if;
  select count(*)::integer into v_left from app_public.broadcast_deliveries d
    where d.broadcast_id = finish_broadcast_batch.broadcast_id and d.batch = finish_broadcast_batch.batch
      and d.status in ('pending', 'sending');
  if v_broadcast.id is not null then
    perform app_private.notify_broadcast(v_broadcast);
  end if;
  return v_left;
end;
$function$;
comment on function app_private.finish_broadcast_batch(uuid,integer,boolean) is '@module broadcasts
A batch''s run ends: NOTIFY the broadcast''s counts; on the last attempt pending deliveries fail. Returns how many are left to retry.';

-- The scheduler starts no broadcast whose bot is not active or whose modules are off.
create or replace function app_private.start_due_broadcasts(batch_size integer, max_broadcasts integer DEFAULT 20)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_broadcast app_public.broadcasts;
  v_started integer := 0;
  v_batches integer;
begin
  for v_broadcast in
    select * from app_public.broadcasts b
    where b.status = 'pending' and b.scheduled_at <= now()
    order by b.scheduled_at, b.id
    limit start_due_broadcasts.max_broadcasts
    for update skip locked
  loop
    -- The triggers cancel a broadcast when its bot or a module goes; checked here again all the same.
    if not exists (select 1 from app_public.bots t
                   where t.tenant_id = v_broadcast.tenant_id and t.id = v_broadcast.bot_id and t.status = 'active') then
      perform app_private.stop_broadcasts(v_broadcast.tenant_id, v_broadcast.bot_id, 'BOT_NOT_ACTIVE');
      continue;
    end if;
    if not (app_private.tenant_module_enabled(v_broadcast.tenant_id, 'broadcasts')
            and app_private.tenant_module_enabled(v_broadcast.tenant_id, 'commerce')) then
      perform app_private.stop_broadcasts(v_broadcast.tenant_id, null, 'MODULE_OFF');
      continue;
    end if;
    update app_public.broadcasts b set status = 'sending', started_at = now() where b.id = v_broadcast.id;
    -- The audience: customers of the broadcast's tenant only, matching its filter.
    insert into app_public.broadcast_deliveries (tenant_id, broadcast_id, customer_id, chat_id, batch)
      select v_broadcast.tenant_id, v_broadcast.id, c.id, c.telegram_id,
             ((row_number() over (order by c.id)) - 1) / start_due_broadcasts.batch_size
      from app_public.customers c
      where c.tenant_id = v_broadcast.tenant_id
        and (not v_broadcast.audience ? 'language'
             or lower(split_part(c.language_code, '-', 1)) = v_broadcast.audience ->> 'language')
        and (not v_broadcast.audience ? 'hasPaidOrder'
             or (v_broadcast.audience -> 'hasPaidOrder')::boolean = exists (
                  select 1 from app_public.orders o
                  where o.tenant_id = c.tenant_id and o.customer_id = c.id and o.status in ('paid', 'fulfilled')))
      on conflict (broadcast_id, customer_id) do nothing;
    select coalesce(max(d.batch) + 1, 0) into v_batches
      from app_public.broadcast_deliveries d
      where d.tenant_id = v_broadcast.tenant_id and d.broadcast_id = v_broadcast.id;
    if v_batches = 0 then
      update app_public.broadcasts b set status = 'completed', completed_at = now() where b.id = v_broadcast.id;
    else
      -- One job per batch, keyed: this transaction makes them once (the broadcast is no longer pending).
      perform app_private.enqueue_job('broadcast_deliver',
                                      json_build_object('tenantId', v_broadcast.tenant_id,
                                                        'broadcastId', v_broadcast.id, 'batch', n),
                                      job_key => 'broadcast_deliver:' || v_broadcast.id || ':' || n,
                                      max_attempts => 10,
                                      queue_name => 'broadcasts_bot_' || v_broadcast.bot_id)
        from generate_series(0, v_batches - 1) n;
    end if;
    perform app_private.remove_job('broadcast_schedule:' || v_broadcast.id);
    v_started := v_started + 1;
  end loop;
  return v_started;
end;
$function$;
comment on function app_private.start_due_broadcasts(integer,integer) is '@module broadcasts
Starts due pending broadcasts (skip locked): sending, one delivery per customer of the audience in batches, one keyed broadcast_deliver job per batch; returns how many started.';
