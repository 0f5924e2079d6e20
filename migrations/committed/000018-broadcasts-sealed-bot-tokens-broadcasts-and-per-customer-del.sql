--! Previous: sha1:db4cd3de6661a44895b36526c23a22f0831ea100
--! Hash: sha1:e8dd616046445ddbc5a4ad4d19d9165714579992
--! Message: Broadcasts: sealed bot tokens, broadcasts and per-customer deliveries with counts kept by triggers, a scheduler that fans out keyed batch jobs, broadcasts.manage

--! split: 1-current.sql
-- Enter migration here

--! split: 4-broadcasts.sql
--------------------------------------------------------------------------------------------------
-- 4-broadcasts: a store's messages to its customers through one of its Telegram bots
-- (docs/broadcasts.md).
--
-- An admin with broadcasts.manage creates a broadcast (createBroadcast: bot, text, optional image,
-- scheduled_at, audience filter) and may cancel it while it is pending. When it is due, the
-- broadcast_schedule task (cron every minute, and a keyed job at scheduled_at) runs
-- app_private.start_due_broadcasts: under the row lock (skip locked) the broadcast becomes
-- `sending`, one delivery row per customer of the audience is made, numbered in batches, and one
-- broadcast_deliver job per batch is enqueued (keyed broadcast_deliver:<id>:<batch>) — all in one
-- transaction. A delivery job claims one delivery at a time (`sending`, committed before the call to
-- Telegram) and records its outcome right after the answer (`sent`, `blocked`, `failed`, or back to
-- `pending` for a retry). Counts on the broadcast are kept by a statement trigger on the deliveries;
-- the broadcast is `completed` when none is pending or sending. Changes are NOTIFYed on
-- tenant:<id>:broadcasts (at most one per second for counts, always for a status change and at the
-- end of each batch) for the broadcastUpdated subscription.
--
-- Bot tokens: app_private.bot_tokens (commerce) is written only by app_hidden.set_bot_token, which
-- the setBotToken mutation calls with the token sealed by the server (AES-256-GCM).

drop function if exists app_hidden.set_bot_token(uuid, text);
drop function if exists app_public.cancel_broadcast(uuid);
drop function if exists app_private.start_due_broadcasts(integer, integer);
drop function if exists app_private.broadcast_batch(uuid, integer);
drop function if exists app_private.claim_broadcast_delivery(uuid, integer, uuid);
drop function if exists app_private.record_broadcast_delivery(uuid, text, text);
drop function if exists app_private.finish_broadcast_batch(uuid, integer, boolean);
drop function if exists app_private.notify_broadcast(app_public.broadcasts);
drop table if exists app_public.broadcast_deliveries cascade;
drop table if exists app_public.broadcasts cascade;
drop function if exists app_private.tg_broadcasts__check();
drop function if exists app_private.tg_broadcasts__schedule();
drop function if exists app_private.tg_broadcasts__notify();
drop function if exists app_private.tg_broadcast_deliveries__count_insert();
drop function if exists app_private.tg_broadcast_deliveries__count_update();

insert into app_public.modules (name, description)
  values ('broadcasts', 'Messages to the store''s customers through its Telegram bots, with live counts.')
  on conflict (name) do nothing;

insert into app_public.permissions (name, description)
  values ('broadcasts.manage', 'Create, read and cancel broadcasts to the store''s customers.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'broadcasts.manage'), ('admin', 'broadcasts.manage')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- Bot tokens.

create function app_hidden.set_bot_token(bot_id uuid, sealed_token text) returns uuid
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access('commerce', 'bots.manage');
  if not exists (select 1 from app_public.bots b
                 where b.id = set_bot_token.bot_id and b.tenant_id = app_public.current_tenant_id()) then
    raise exception 'No such bot' using errcode = 'TNFND';
  end if;
  if set_bot_token.sealed_token is null or set_bot_token.sealed_token !~ '^v1\.' then
    raise exception 'A sealed token is required' using errcode = 'TVALD';
  end if;
  insert into app_private.bot_tokens as t (bot_id, sealed_token, updated_at)
    values (set_bot_token.bot_id, set_bot_token.sealed_token, now())
    on conflict on constraint bot_tokens_pkey do update set sealed_token = excluded.sealed_token, updated_at = now();
  return set_bot_token.bot_id;
end;
$$;
comment on function app_hidden.set_bot_token(uuid, text) is E'@module broadcasts\n'
  'Stores the Telegram token of a bot of the caller''s tenant, sealed by the server (needs bots.manage). '
  'Called by the setBotToken mutation; nothing reads a token back but the worker.';
revoke execute on function app_hidden.set_bot_token(uuid, text) from public;
grant execute on function app_hidden.set_bot_token(uuid, text) to :DATABASE_VISITOR;

--------------------------------------------------------------------------------------------------
-- Broadcasts.

create table app_public.broadcasts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_public.current_tenant_id() references app_public.tenants on delete cascade,
  bot_id uuid not null,
  text text not null check (length(text) between 1 and 4096),
  image_sha256 text,
  audience jsonb not null default '{}'::jsonb,
  scheduled_at timestamptz not null default now() check (isfinite(scheduled_at)),
  status text not null default 'pending' check (status in ('pending', 'sending', 'completed', 'cancelled')),
  total_count integer not null default 0,
  pending_count integer not null default 0,
  sent_count integer not null default 0,
  failed_count integer not null default 0,
  blocked_count integer not null default 0,
  created_by uuid default app_public.current_user_id(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  notified_at timestamptz,
  -- A photo's caption is at most 1,024 characters (Telegram's limit); a text message 4,096.
  constraint broadcasts_caption_length check (image_sha256 is null or length(text) <= 1024),
  -- The audience filter: {} (every customer), {"language": "en"}, {"hasPaidOrder": true}, or both.
  constraint broadcasts_audience_valid check (
    jsonb_typeof(audience) = 'object'
    and (audience - 'language' - 'hasPaidOrder') = '{}'::jsonb
    and (not audience ? 'language'
         or (jsonb_typeof(audience -> 'language') = 'string' and audience ->> 'language' ~ '^[a-z]{2,3}$'))
    and (not audience ? 'hasPaidOrder' or jsonb_typeof(audience -> 'hasPaidOrder') = 'boolean')),
  foreign key (tenant_id, bot_id) references app_public.bots (tenant_id, id),
  foreign key (tenant_id, image_sha256) references app_public.images (tenant_id, sha256),
  foreign key (tenant_id, created_by) references app_public.users (tenant_id, id) on delete set null (created_by)
);
create unique index broadcasts_tenant_id_id_key on app_public.broadcasts (tenant_id, id);
create index broadcasts_bot_idx on app_public.broadcasts (tenant_id, bot_id);
create index broadcasts_image_idx on app_public.broadcasts (tenant_id, image_sha256);
create index broadcasts_created_by_idx on app_public.broadcasts (tenant_id, created_by);
create index broadcasts_due_idx on app_public.broadcasts (scheduled_at) where status = 'pending';
comment on table app_public.broadcasts is E'@module broadcasts\n@behavior -update -delete\n'
  'A message to the store''s customers through one of its bots: text (a caption when there is an image), '
  'scheduled_at, an audience filter, and live counts of its deliveries.';
comment on column app_public.broadcasts.audience is
  'Which customers: {} for all, {"language": "en"} (their language''s primary subtag), '
  '{"hasPaidOrder": true|false} (a paid or fulfilled order, or none), or both (and).';
comment on column app_public.broadcasts.status is 'pending, sending, completed or cancelled (only while pending).';
comment on column app_public.broadcasts.total_count is 'Deliveries made when the broadcast started: its audience then.';
comment on column app_public.broadcasts.pending_count is
  'Deliveries not yet done (waiting, in flight or to be retried).';
comment on column app_public.broadcasts.notified_at is E'@behavior -*\nLast NOTIFY of a count change (throttling).';
comment on constraint broadcasts_tenant_id_bot_id_fkey on app_public.broadcasts is E'@behavior -*';
comment on constraint broadcasts_tenant_id_image_sha256_fkey on app_public.broadcasts is E'@behavior -*';
comment on constraint broadcasts_tenant_id_created_by_fkey on app_public.broadcasts is E'@behavior -*';

alter table app_public.broadcasts enable row level security;
create policy select_broadcasts_manage on app_public.broadcasts for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('broadcasts'))
  and (select app_public.current_user_has_permission('broadcasts.manage')));
create policy insert_broadcasts_manage on app_public.broadcasts for insert to :DATABASE_VISITOR with check (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('broadcasts'))
  and (select app_public.current_user_has_permission('broadcasts.manage')));
grant select on app_public.broadcasts to :DATABASE_VISITOR;
grant insert (bot_id, text, image_sha256, audience, scheduled_at) on app_public.broadcasts to :DATABASE_VISITOR;

create function app_private.tg_broadcasts__check() returns trigger
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  -- What a request may not choose: the counts and the status start at their beginning.
  new.status := 'pending';
  new.total_count := 0; new.pending_count := 0; new.sent_count := 0; new.failed_count := 0; new.blocked_count := 0;
  new.started_at := null; new.completed_at := null; new.cancelled_at := null; new.notified_at := null;
  new.created_at := now(); new.updated_at := now();
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
comment on function app_private.tg_broadcasts__check() is E'@module broadcasts\n'
  'Before a broadcast is created: status pending, counts zero; its bot active and with a token (VALIDATION_FAILED).';
create trigger _200_check before insert on app_public.broadcasts
  for each row execute function app_private.tg_broadcasts__check();

create function app_private.tg_broadcasts__schedule() returns trigger
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  -- The cron line picks due broadcasts every minute; this keyed job starts this one on time.
  perform app_private.enqueue_job('broadcast_schedule', json_build_object('tenantId', new.tenant_id),
                                   run_at => new.scheduled_at, job_key => 'broadcast_schedule:' || new.id);
  return null;
end;
$$;
comment on function app_private.tg_broadcasts__schedule() is E'@module broadcasts\n'
  'After a broadcast is created: a broadcast_schedule job at its scheduled time (keyed by the broadcast).';
create trigger _500_schedule after insert on app_public.broadcasts
  for each row execute function app_private.tg_broadcasts__schedule();

create function app_private.notify_broadcast(broadcast app_public.broadcasts) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select pg_notify('tenant:' || broadcast.tenant_id::text || ':broadcasts',
                   json_build_object('id', broadcast.id, 'status', broadcast.status)::text);
$$;
comment on function app_private.notify_broadcast(app_public.broadcasts) is E'@module broadcasts\n'
  'NOTIFYs tenant:<id>:broadcasts that this broadcast changed (the broadcastUpdated subscription).';

create function app_private.tg_broadcasts__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  new.updated_at := greatest(now(), old.updated_at);
  -- A status change always; count changes at most once a second (each delivery is a transaction
  -- of its own: 2,000 deliveries would be 2,000 notifications). The end of each batch notifies too
  -- (finish_broadcast_batch), so the last counts always arrive.
  if new.status is distinct from old.status
     or (old.notified_at is null or old.notified_at < now() - interval '1 second') then
    new.notified_at := now();
    perform app_private.notify_broadcast(new);
  end if;
  return new;
end;
$$;
comment on function app_private.tg_broadcasts__notify() is E'@module broadcasts\n'
  'Before a broadcast changes: NOTIFY on a status change, or on a count change a second after the last one.';
create trigger _500_notify before update on app_public.broadcasts
  for each row execute function app_private.tg_broadcasts__notify();

create function app_public.cancel_broadcast(id uuid) returns app_public.broadcasts
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_broadcast app_public.broadcasts;
begin
  perform app_private.assert_module_access('broadcasts', 'broadcasts.manage');
  select * into v_broadcast from app_public.broadcasts b
    where b.id = cancel_broadcast.id and b.tenant_id = app_public.current_tenant_id()
    for update;
  if v_broadcast.id is null then
    raise exception 'No such broadcast' using errcode = 'TNFND';
  end if;
  if v_broadcast.status <> 'pending' then
    raise exception 'Only a pending broadcast can be cancelled; this one is %', v_broadcast.status
      using errcode = 'TCONF', detail = json_build_object('reason', 'NOT_PENDING', 'status', v_broadcast.status)::text;
  end if;
  update app_public.broadcasts b set status = 'cancelled', cancelled_at = now()
    where b.id = v_broadcast.id returning * into v_broadcast;
  perform app_private.remove_job('broadcast_schedule:' || v_broadcast.id);
  return v_broadcast;
end;
$$;
comment on function app_public.cancel_broadcast(uuid) is E'@module broadcasts\n@resultFieldName broadcast\n'
  'Cancels a broadcast that has not started (needs broadcasts.manage); a started one is a CONFLICT.';
revoke execute on function app_public.cancel_broadcast(uuid) from public;
grant execute on function app_public.cancel_broadcast(uuid) to :DATABASE_VISITOR;

--------------------------------------------------------------------------------------------------
-- Deliveries: one per customer of the audience, made when the broadcast starts.

create table app_public.broadcast_deliveries (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  broadcast_id uuid not null,
  customer_id uuid not null,
  chat_id bigint not null,
  batch integer not null check (batch >= 0),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'blocked')),
  attempts integer not null default 0,
  last_error text,
  sent_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (broadcast_id, customer_id),
  foreign key (tenant_id, broadcast_id) references app_public.broadcasts (tenant_id, id) on delete cascade,
  foreign key (tenant_id, customer_id) references app_public.customers (tenant_id, id) on delete cascade
);
create index broadcast_deliveries_batch_idx on app_public.broadcast_deliveries (tenant_id, broadcast_id, batch, id);
create index broadcast_deliveries_customer_idx on app_public.broadcast_deliveries (tenant_id, customer_id);
comment on table app_public.broadcast_deliveries is E'@module broadcasts\n@behavior -insert -update -delete\n'
  'One customer''s copy of a broadcast: its chat (the customer''s telegram id), batch, status and attempts.';
comment on column app_public.broadcast_deliveries.status is
  'pending, sending (the call to Telegram is under way), sent, failed or blocked (the user blocked the bot).';
comment on column app_public.broadcast_deliveries.batch is 'Which delivery job sends it (batches of the broadcast).';
comment on constraint broadcast_deliveries_tenant_id_broadcast_id_fkey on app_public.broadcast_deliveries is
  E'@fieldName broadcast\n@foreignFieldName deliveries';
comment on constraint broadcast_deliveries_tenant_id_customer_id_fkey on app_public.broadcast_deliveries is
  E'@behavior -*';
alter table app_public.broadcast_deliveries enable row level security;
create policy select_broadcasts_manage on app_public.broadcast_deliveries for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('broadcasts'))
  and (select app_public.current_user_has_permission('broadcasts.manage')));
grant select on app_public.broadcast_deliveries to :DATABASE_VISITOR;

-- Counts in SQL: statement triggers on deliveries add each broadcast's changes at once (making 2,000
-- deliveries is one update of the broadcast; a delivery's outcome is one).
create function app_private.tg_broadcast_deliveries__count_insert() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  update app_public.broadcasts b
    set pending_count = b.pending_count + s.n, total_count = b.total_count + s.n
    from (select n.broadcast_id, count(*)::integer as n from new_rows n group by n.broadcast_id) s
    where b.id = s.broadcast_id;
  return null;
end;
$$;
comment on function app_private.tg_broadcast_deliveries__count_insert() is E'@module broadcasts\n'
  'After deliveries are made: their broadcasts'' total and pending counts.';
create trigger _800_count_insert after insert on app_public.broadcast_deliveries
  referencing new table as new_rows
  for each statement execute function app_private.tg_broadcast_deliveries__count_insert();

create function app_private.tg_broadcast_deliveries__count_update() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  with changes as (
    select n.broadcast_id, n.status, 1 as delta from new_rows n
    union all
    select o.broadcast_id, o.status, -1 from old_rows o
  ), sums as (
    select c.broadcast_id,
           coalesce(sum(c.delta) filter (where c.status in ('pending', 'sending')), 0)::integer as pending,
           coalesce(sum(c.delta) filter (where c.status = 'sent'), 0)::integer as sent,
           coalesce(sum(c.delta) filter (where c.status = 'failed'), 0)::integer as failed,
           coalesce(sum(c.delta) filter (where c.status = 'blocked'), 0)::integer as blocked
    from changes c group by c.broadcast_id
  )
  update app_public.broadcasts b set
    pending_count = b.pending_count + s.pending,
    sent_count = b.sent_count + s.sent,
    failed_count = b.failed_count + s.failed,
    blocked_count = b.blocked_count + s.blocked,
    status = case when b.status = 'sending' and b.pending_count + s.pending = 0 then 'completed' else b.status end,
    completed_at = case when b.status = 'sending' and b.pending_count + s.pending = 0 then now()
                        else b.completed_at end
  from sums s
  where b.id = s.broadcast_id and (s.pending <> 0 or s.sent <> 0 or s.failed <> 0 or s.blocked <> 0);
  return null;
end;
$$;
comment on function app_private.tg_broadcast_deliveries__count_update() is E'@module broadcasts\n'
  'After deliveries change: their broadcasts'' counts; a sending broadcast with none left pending is completed.';
create trigger _800_count_update after update on app_public.broadcast_deliveries
  referencing old table as old_rows new table as new_rows
  for each statement execute function app_private.tg_broadcast_deliveries__count_update();

--------------------------------------------------------------------------------------------------
-- The scheduler and the delivery jobs (run by the worker as the owner).

create function app_private.start_due_broadcasts(batch_size integer, max_broadcasts integer default 20)
  returns integer
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
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
                                      max_attempts => 10)
        from generate_series(0, v_batches - 1) n;
    end if;
    perform app_private.remove_job('broadcast_schedule:' || v_broadcast.id);
    v_started := v_started + 1;
  end loop;
  return v_started;
end;
$$;
comment on function app_private.start_due_broadcasts(integer, integer) is E'@module broadcasts\n'
  'Starts due pending broadcasts (skip locked): sending, one delivery per customer of the audience in '
  'batches, one keyed broadcast_deliver job per batch; returns how many started.';

-- What a delivery job needs once: the broadcast's state, text, image and its bot's sealed token.
-- Deliveries of the batch left `sending` by a run that died mid-call are settled first: the message
-- may have reached Telegram, which has no idempotency key, so they are never sent again (failed,
-- last_error INTERRUPTED). Only one run of a batch's job exists at a time (graphile-worker's lock).
create function app_private.broadcast_batch(
  broadcast_id uuid, batch integer,
  out broadcast_status text, out message text, out image_id uuid, out sealed_token text, out interrupted integer
)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_broadcast app_public.broadcasts;
begin
  select * into v_broadcast from app_public.broadcasts b where b.id = broadcast_batch.broadcast_id;
  if v_broadcast.id is null then
    return;
  end if;
  update app_public.broadcast_deliveries d
    set status = 'failed', updated_at = now(),
        last_error = 'INTERRUPTED: the worker stopped during the call to Telegram; not sent again'
    where d.tenant_id = v_broadcast.tenant_id and d.broadcast_id = v_broadcast.id
      and d.batch = broadcast_batch.batch and d.status = 'sending';
  get diagnostics interrupted = row_count;
  broadcast_status := v_broadcast.status;
  message := v_broadcast.text;
  select i.id into image_id from app_public.images i
    where i.tenant_id = v_broadcast.tenant_id and i.sha256 = v_broadcast.image_sha256;
  select t.sealed_token into sealed_token from app_private.bot_tokens t where t.bot_id = v_broadcast.bot_id;
end;
$$;
comment on function app_private.broadcast_batch(uuid, integer) is E'@module broadcasts\n'
  'A delivery job''s start: the broadcast''s status, text, image and sealed bot token; settles deliveries left '
  'sending by a dead run (failed, INTERRUPTED, never re-sent).';

-- Claims the batch's next pending delivery after `after` (id order) while the broadcast is sending:
-- `sending`, attempts + 1, committed before the call. Null when none is left (or it was cancelled).
create function app_private.claim_broadcast_delivery(
  broadcast_id uuid, batch integer, after uuid,
  out id uuid, out chat_id bigint, out attempts integer
)
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  update app_public.broadcast_deliveries d set status = 'sending', attempts = d.attempts + 1, updated_at = now()
  where d.id = (
    select n.id from app_public.broadcast_deliveries n join app_public.broadcasts b on b.id = n.broadcast_id
    where n.broadcast_id = claim_broadcast_delivery.broadcast_id and n.tenant_id = b.tenant_id
      and n.batch = claim_broadcast_delivery.batch and n.status = 'pending' and b.status = 'sending'
      and (claim_broadcast_delivery.after is null or n.id > claim_broadcast_delivery.after)
    order by n.id limit 1)
  returning d.id, d.chat_id, d.attempts;
$$;
comment on function app_private.claim_broadcast_delivery(uuid, integer, uuid) is E'@module broadcasts\n'
  'The next pending delivery of a batch (after an id), marked sending; none once the broadcast is not sending.';

create function app_private.record_broadcast_delivery(delivery_id uuid, outcome text, error text default null)
  returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if outcome not in ('pending', 'sent', 'failed', 'blocked') then
    raise exception 'Unknown outcome %', outcome using errcode = 'TVALD';
  end if;
  update app_public.broadcast_deliveries d
    set status = record_broadcast_delivery.outcome, last_error = record_broadcast_delivery.error,
        sent_at = case when record_broadcast_delivery.outcome = 'sent' then now() end, updated_at = now()
    where d.id = record_broadcast_delivery.delivery_id and d.status = 'sending';
end;
$$;
comment on function app_private.record_broadcast_delivery(uuid, text, text) is E'@module broadcasts\n'
  'Records what Telegram answered for a delivery in flight: sent, blocked, failed, or pending (to retry).';

-- The end of a batch's run: NOTIFY the counts as they are; on the job's last attempt, deliveries
-- still pending (temporary failures) become failed.
create function app_private.finish_broadcast_batch(broadcast_id uuid, batch integer, last_attempt boolean)
  returns integer
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_broadcast app_public.broadcasts;
  v_left integer;
begin
  if last_attempt then
    update app_public.broadcast_deliveries d
      set status = 'failed', updated_at = now(), last_error = coalesce(d.last_error, 'gave up')
      where d.broadcast_id = finish_broadcast_batch.broadcast_id and d.batch = finish_broadcast_batch.batch
        and d.status = 'pending';
  end if;
  select count(*)::integer into v_left from app_public.broadcast_deliveries d
    where d.broadcast_id = finish_broadcast_batch.broadcast_id and d.batch = finish_broadcast_batch.batch
      and d.status in ('pending', 'sending');
  select * into v_broadcast from app_public.broadcasts b where b.id = finish_broadcast_batch.broadcast_id;
  if v_broadcast.id is not null then
    perform app_private.notify_broadcast(v_broadcast);
  end if;
  return v_left;
end;
$$;
comment on function app_private.finish_broadcast_batch(uuid, integer, boolean) is E'@module broadcasts\n'
  'A batch''s run ends: NOTIFY the broadcast''s counts; on the last attempt pending deliveries fail. Returns how '
  'many are left to retry.';
