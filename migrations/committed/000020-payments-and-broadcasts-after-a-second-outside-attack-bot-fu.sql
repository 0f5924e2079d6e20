--! Previous: sha1:70eebbe58819f991044841b1132ab8aae9a51b7a
--! Hash: sha1:b051944497329a8b54d0d7afd90457152de7b8e3
--! Message: Payments and broadcasts after a second outside attack: bot functions for the bot role only, deliveries lock their payment first, no referral payout through a disabled bot, a bot's broadcast jobs in one queue, blank Unicode broadcast texts refused

--! split: 1-current.sql
-- Enter migration here

--! split: 2-payments.sql
-- Payments: the bot functions belong to the bot role only (app_hidden's default grant gave them to
-- the visitor too; they refused it, being bot-only, but a request role should not even call them).
revoke execute on function
  app_hidden.bot_start_payment(uuid, bigint, numeric, text),
  app_hidden.bot_set_webhook(text)
  from public, :DATABASE_VISITOR;

-- Deliveries for one payment queue on its row lock before anything else (no deadlock between
-- concurrent deliveries); a 404 does not repeat the sender's id.
create or replace function app_private.receive_payment_webhook(provider text, webhook_id text, event_type text,
  provider_payment_id text, amount numeric, currency text) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_payment uuid;
  v_delivery bigint;
begin
  -- (Parameters are always written qualified here; ON CONFLICT's column list cannot be.)
  -- The payment's row lock first: concurrent deliveries for one payment (copies of one delivery, or
  -- several deliveries) queue here, before anything else of theirs takes a lock on it (the
  -- delivery's foreign key would take a share lock, and two of those waiting to become FOR UPDATE
  -- in settle_payment deadlock).
  select p.id into v_payment from app_public.payments p
    where p.provider = receive_payment_webhook.provider
      and p.provider_payment_id = receive_payment_webhook.provider_payment_id
    for update;
  -- Concurrent copies of one delivery wait here for the first one's transaction.
  insert into app_private.payment_webhooks (provider, webhook_id, outcome, http_status, payment_id, event_type)
    values (receive_payment_webhook.provider, receive_payment_webhook.webhook_id, 'processed', 200, v_payment,
            receive_payment_webhook.event_type)
    on conflict (provider, webhook_id) where outcome = 'processed' do nothing
    returning id into v_delivery;
  if v_delivery is null then
    insert into app_private.payment_webhooks (provider, webhook_id, outcome, http_status, payment_id, event_type)
      values (receive_payment_webhook.provider, receive_payment_webhook.webhook_id, 'duplicate', 200, v_payment,
              receive_payment_webhook.event_type);
    return 'duplicate';
  end if;
  if v_payment is null then
    raise exception 'No payment of this provider has this id' using errcode = 'TNFND';
  end if;
  return app_private.settle_payment(v_payment, replace(receive_payment_webhook.event_type, 'payment.', ''),
    receive_payment_webhook.amount, receive_payment_webhook.currency, 'webhook');
end;
$$;

create or replace function app_private.complete_order_purchase(v_order app_public.orders, payment_id uuid default null)
  returns app_public.orders
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_referrer uuid;
  v_percent numeric;
  v_payout numeric;
begin
  if v_order.total > 0 then
    insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, bot_id, order_id, payment_id)
      values (v_order.tenant_id, v_order.customer_id, 'purchase', -v_order.total, v_order.currency,
              v_order.bot_id, v_order.id, complete_order_purchase.payment_id),
             (v_order.tenant_id, null, 'purchase', v_order.total, v_order.currency, v_order.bot_id, v_order.id,
              complete_order_purchase.payment_id);
    -- A disabled bot's referral percent never applies (a provider payment may settle after the
    -- bot was disabled: the customer paid, the order is theirs, no payout).
    select c.referred_by, b.referral_percent into v_referrer, v_percent
      from app_public.customers c, app_public.bots b
      where c.id = v_order.customer_id and b.id = v_order.bot_id and b.status = 'active';
    v_payout := round(v_order.total * coalesce(v_percent, 0) / 100, 2);
    if v_referrer is not null and v_payout > 0 then
      insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, bot_id, order_id, payment_id)
        values (v_order.tenant_id, null, 'referral_payout', -v_payout, v_order.currency, v_order.bot_id,
                v_order.id, complete_order_purchase.payment_id),
               (v_order.tenant_id, v_referrer, 'referral_payout', v_payout, v_order.currency, v_order.bot_id,
                v_order.id, complete_order_purchase.payment_id);
    end if;
  end if;
  update app_public.orders o set status = 'paid', paid_at = now() where o.id = v_order.id returning * into v_order;
  perform app_private.publish_event('order_paid', v_order.tenant_id, 'order', v_order.id::text,
    jsonb_build_object('orderId', v_order.id, 'total', v_order.total, 'currency', v_order.currency));
  return v_order;
end;
$$;

--! split: 3-broadcasts.sql
-- Broadcasts: a bot's delivery jobs run one at a time (one graphile-worker queue per bot).
-- Telegram's rate limit is per bot, so the pace (BROADCASTS_MESSAGES_PER_SECOND) now holds for the
-- bot rather than per job, and a bot that Telegram asks to wait (429) holds one worker slot, not all.
create or replace function app_private.start_due_broadcasts(batch_size integer, max_broadcasts integer default 20)
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
                                      max_attempts => 10,
                                      queue_name => 'broadcasts_bot_' || v_broadcast.bot_id)
        from generate_series(0, v_batches - 1) n;
    end if;
    perform app_private.remove_job('broadcast_schedule:' || v_broadcast.id);
    v_started := v_started + 1;
  end loop;
  return v_started;
end;
$$;

-- A text of Unicode spaces or invisible characters only is as empty as one of spaces.
alter table app_public.broadcasts drop constraint if exists broadcasts_text_not_blank;
alter table app_public.broadcasts add constraint broadcasts_text_not_blank
  check (regexp_replace(text, '[\s\u00a0\u1680\u180e\u2000-\u200f\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]', '', 'g') <> '');
