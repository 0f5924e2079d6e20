--! Previous: sha1:58950d0493ff6ffa8df20d371ee665575a1c24a9
--! Hash: sha1:db4cd3de6661a44895b36526c23a22f0831ea100
--! Message: Payments and provider subscriptions: provider payments of orders and deposits holding stock, signed provider webhooks settled once, polling and expiry, bot events with signed pushes; Contms plans, issued subscriptions with sealed credentials

--! split: 1-current.sql
-- Enter migration here

--! split: 2-payments.sql
--------------------------------------------------------------------------------------------------
-- 080-payments: money that comes from outside. A bot asks for a payment (an order's total, or a
-- deposit to the customer's balance); the server creates an invoice at a provider; the provider's
-- signed webhook (or the polling job, when the webhook never comes) settles it.
--
-- An order's payment holds the order's stock from the moment it is created: a success completes
-- the order without touching stock again, a failure or expiry gives the stock back. Money that
-- arrives is a deposit to the customer's balance first; an order's purchase then draws on it in the
-- same transaction (so a success that arrives after the order could no longer be completed leaves
-- the money on the customer's balance, never lost).
--
-- Every webhook delivery is recorded; a delivery id (webhook-id) is processed at most once: the
-- row that says so is inserted first, in the transaction that settles, under a unique index, so
-- concurrent copies of one delivery wait for the first and then find it processed.
--
-- Lock order: the payment, then the order and the rest as app_private.pay_order takes them.

drop function if exists app_private.receive_payment_webhook(text, text, text, text, numeric, text);
drop function if exists app_private.settle_payment(uuid, text, numeric, text, text);
drop function if exists app_private.expire_payment(uuid);
drop function if exists app_private.close_payment(uuid, text, text);
drop function if exists app_private.payment_event_payload(app_public.payments, boolean);
drop function if exists app_private.attach_invoice(uuid, text, text);
drop function if exists app_hidden.bot_start_payment(uuid, bigint, numeric, text);
drop function if exists app_hidden.bot_set_webhook(text);
drop function if exists app_private.record_bot_event(uuid, uuid, text, jsonb);
drop function if exists app_private.move_order_stock(uuid, integer);
drop function if exists app_private.complete_order_purchase(app_public.orders);
drop table if exists app_private.payment_webhooks cascade;
drop table if exists app_private.bot_event_deliveries cascade;
drop table if exists app_public.bot_events cascade;
drop table if exists app_public.payments cascade;
alter table app_public.bots drop column if exists webhook_url;
alter table app_public.transactions drop constraint if exists transactions_tenant_id_payment_id_fkey;

insert into app_public.permissions (name, description) values
  ('payments.read', 'See the store''s payments and their webhook deliveries.')
  on conflict (name) do nothing;
insert into app_private.builtin_role_permissions (role_name, permission) values
  ('owner', 'payments.read'), ('admin', 'payments.read'), ('manager', 'payments.read')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- Payments.

create table app_public.payments (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  kind text not null check (kind in ('order', 'deposit')),
  order_id uuid,
  customer_id uuid not null,
  bot_id uuid not null,
  amount numeric(18,2) not null check (amount > 0 and amount <> 'NaN'),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  provider text not null check (provider in ('mock', 'platform')),
  provider_payment_id text check (length(provider_payment_id) between 1 and 200),
  payment_url text check (length(payment_url) between 1 and 2000),
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed', 'expired')),
  failure_reason text check (length(failure_reason) between 1 and 500),
  created_at timestamptz not null default now(),
  paid_at timestamptz,
  failed_at timestamptz,
  expired_at timestamptz,
  checked_at timestamptz,
  check ((kind = 'order') = (order_id is not null)),
  foreign key (tenant_id, order_id) references app_public.orders (tenant_id, id),
  foreign key (tenant_id, customer_id) references app_public.customers (tenant_id, id),
  foreign key (tenant_id, bot_id) references app_public.bots (tenant_id, id)
);
create unique index payments_tenant_id_id_key on app_public.payments (tenant_id, id);
create unique index payments_provider_payment_key on app_public.payments (provider, provider_payment_id);
-- At most one payment in flight per order: a second request for it returns the first.
create unique index payments_pending_order_key on app_public.payments (order_id) where status = 'pending';
create index payments_pending_idx on app_public.payments (created_at) where status = 'pending';
create index payments_customer_idx on app_public.payments (tenant_id, customer_id, created_at desc);
create index payments_bot_idx on app_public.payments (tenant_id, bot_id);
comment on table app_public.payments is E'@module payments\n@behavior -insert -update -delete\n'
  'Money asked from a provider: an order''s total or a deposit to the customer''s balance.';
comment on constraint payments_tenant_id_order_id_fkey on app_public.payments is E'@behavior -*';
comment on constraint payments_tenant_id_customer_id_fkey on app_public.payments is E'@behavior -*';
comment on constraint payments_tenant_id_bot_id_fkey on app_public.payments is E'@behavior -*';

alter table app_public.transactions add constraint transactions_tenant_id_payment_id_fkey
  foreign key (tenant_id, payment_id) references app_public.payments (tenant_id, id);
comment on constraint transactions_tenant_id_payment_id_fkey on app_public.transactions is E'@behavior -*';
create index if not exists transactions_payment_idx on app_public.transactions (tenant_id, payment_id);

alter table app_public.payments enable row level security;
create policy select_payments_read on app_public.payments for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('payments.read')));
create policy select_bot on app_public.payments for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()) and bot_id = (select app_hidden.current_bot_id()));
grant select on app_public.payments to :DATABASE_VISITOR, :DATABASE_BOT;

--------------------------------------------------------------------------------------------------
-- Events for bots: what happened to their payments, to poll (GET /api/bot/events) or to receive
-- at the bot's webhook URL (signed, retried, each attempt logged).

alter table app_public.bots add column webhook_url text
  check (webhook_url ~ '^https?://[^\s]+$' and length(webhook_url) <= 2000);
comment on column app_public.bots.webhook_url is E'@behavior -insert -update\n'
  'Where the bot receives its events (signed the Standard Webhooks way); set by the bot itself.';

create table app_public.bot_events (
  id bigint primary key generated always as identity,
  tenant_id uuid not null references app_public.tenants on delete cascade,
  bot_id uuid not null,
  type text not null check (type ~ '^[a-z_.]{1,60}$'),
  payload jsonb not null,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, bot_id) references app_public.bots (tenant_id, id)
);
create index bot_events_bot_idx on app_public.bot_events (tenant_id, bot_id, id);
comment on table app_public.bot_events is E'@module payments\n@behavior -insert -update -delete\n'
  'What happened that a bot should know (settled payments), in order: the bot polls them by id.';
comment on constraint bot_events_tenant_id_bot_id_fkey on app_public.bot_events is E'@behavior -*';
alter table app_public.bot_events enable row level security;
create policy select_payments_read on app_public.bot_events for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('payments.read')));
create policy select_bot on app_public.bot_events for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()) and bot_id = (select app_hidden.current_bot_id()));
grant select on app_public.bot_events to :DATABASE_VISITOR, :DATABASE_BOT;

create table app_private.bot_event_deliveries (
  id bigint primary key generated always as identity,
  event_id bigint not null references app_public.bot_events on delete cascade,
  url text not null,
  attempt integer not null,
  status integer,
  error text,
  delivered boolean not null,
  attempted_at timestamptz not null default now()
);
create index bot_event_deliveries_event_idx on app_private.bot_event_deliveries (event_id);
comment on table app_private.bot_event_deliveries is E'@module payments\n'
  'Each attempt to push a bot event to the bot''s webhook URL: the answer''s status or the error.';

create function app_private.record_bot_event(tenant_id uuid, bot_id uuid, type text, payload jsonb)
  returns bigint
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_id bigint;
begin
  insert into app_public.bot_events (tenant_id, bot_id, type, payload)
    values (record_bot_event.tenant_id, record_bot_event.bot_id, record_bot_event.type, record_bot_event.payload)
    returning id into v_id;
  if exists (select 1 from app_public.bots b where b.id = record_bot_event.bot_id and b.webhook_url is not null) then
    perform app_private.enqueue_job('push_bot_event', json_build_object('id', v_id),
      max_attempts => 12, queue_name => 'bot_events_' || record_bot_event.bot_id);
  end if;
  return v_id;
end;
$$;
comment on function app_private.record_bot_event(uuid, uuid, text, jsonb) is E'@module payments\n'
  'Records an event for a bot and, when the bot has a webhook URL, enqueues its push (one queue per bot: in order).';

create function app_hidden.bot_set_webhook(url text) returns app_public.bots
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_bot app_public.bots;
begin
  if app_hidden.bot_tenant_id() is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  update app_public.bots b set webhook_url = bot_set_webhook.url
    where b.id = app_hidden.current_bot_id() and b.tenant_id = app_hidden.bot_tenant_id()
    returning * into v_bot;
  return v_bot;
end;
$$;
comment on function app_hidden.bot_set_webhook(text) is E'@module payments\n'
  'Sets (or, with null, removes) the calling bot''s webhook URL.';
grant execute on function app_hidden.bot_set_webhook(text) to :DATABASE_BOT;

--------------------------------------------------------------------------------------------------
-- Orders: pay_order in parts, so a provider payment can take the stock when it starts and the
-- purchase when it succeeds.

create function app_private.move_order_stock(order_id uuid, direction integer) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_item record;
begin
  -- Product by product in id order; taking stock finds the latest stock under the row lock and
  -- changes nothing when too little is left. Unlimited products (stock null) are left alone.
  for v_item in
    select i.product_id, i.quantity from app_public.order_items i
    where i.order_id = move_order_stock.order_id order by i.product_id
  loop
    if move_order_stock.direction < 0 then
      update app_public.products p set stock = p.stock - v_item.quantity
        where p.id = v_item.product_id and p.stock >= v_item.quantity;
      if not found and exists (select 1 from app_public.products p
                               where p.id = v_item.product_id and p.stock is not null) then
        raise exception 'Not enough stock left' using errcode = 'TSTCK';
      end if;
    else
      update app_public.products p set stock = p.stock + v_item.quantity
        where p.id = v_item.product_id and p.stock is not null;
    end if;
  end loop;
end;
$$;
comment on function app_private.move_order_stock(uuid, integer) is E'@module payments\n'
  'Takes (direction < 0) or gives back an order''s stock; taking refuses with OUT_OF_STOCK and changes nothing.';

create function app_private.complete_order_purchase(v_order app_public.orders, payment_id uuid default null)
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
    select c.referred_by, b.referral_percent into v_referrer, v_percent
      from app_public.customers c, app_public.bots b
      where c.id = v_order.customer_id and b.id = v_order.bot_id;
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
comment on function app_private.complete_order_purchase(app_public.orders, uuid) is E'@module payments\n'
  'The purchase of an order whose stock is taken: ledger entries (INSUFFICIENT_BALANCE), referral payout, status, order_paid.';

create or replace function app_private.pay_order(tenant_id uuid, order_id uuid) returns app_public.orders
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_order app_public.orders;
begin
  select * into v_order from app_public.orders o
    where o.id = pay_order.order_id and o.tenant_id = pay_order.tenant_id for update;
  if v_order.id is null then
    raise exception 'No such order' using errcode = 'TNFND';
  end if;
  if v_order.status <> 'pending' then
    raise exception 'The order is %, not pending', v_order.status using errcode = 'TCONF';
  end if;
  if exists (select 1 from app_public.payments p where p.order_id = v_order.id and p.status = 'pending') then
    raise exception 'A payment of this order is in progress at a provider' using errcode = 'TCONF';
  end if;
  if not exists (select 1 from app_public.bots b where b.id = v_order.bot_id and b.status = 'active') then
    raise exception 'The bot this order was placed through is disabled' using errcode = 'TFORB';
  end if;
  perform app_private.move_order_stock(v_order.id, -1);
  return app_private.complete_order_purchase(v_order);
end;
$$;

--------------------------------------------------------------------------------------------------
-- Starting a payment (bot requests): the row, and for an order its stock; the server then asks the
-- provider for an invoice and attaches it (or records that the provider failed).

create function app_hidden.bot_start_payment(order_id uuid, telegram_id bigint, amount numeric, provider text,
  out payment app_public.payments, out created boolean)
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_hidden.bot_tenant_id();
  v_bot uuid := app_hidden.current_bot_id();
  v_order app_public.orders;
  v_customer uuid;
begin
  if v_tenant is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  created := false;
  if bot_start_payment.order_id is not null then
    select * into v_order from app_public.orders o
      where o.id = bot_start_payment.order_id and o.tenant_id = v_tenant for update;
    if v_order.id is null then
      raise exception 'No such order' using errcode = 'TNFND';
    end if;
    if v_order.bot_id is distinct from v_bot then
      raise exception 'The order was placed through another bot' using errcode = 'TFORB';
    end if;
    select * into payment from app_public.payments p where p.order_id = v_order.id and p.status = 'pending';
    if payment.id is not null then
      return; -- a retried request: the payment already in flight
    end if;
    if v_order.status <> 'pending' then
      raise exception 'The order is %, not pending', v_order.status using errcode = 'TCONF';
    end if;
    if v_order.total <= 0 then
      raise exception 'The order costs nothing: pay it from the balance' using errcode = 'TCONF';
    end if;
    perform app_private.move_order_stock(v_order.id, -1);
    insert into app_public.payments (tenant_id, kind, order_id, customer_id, bot_id, amount, currency, provider)
      values (v_tenant, 'order', v_order.id, v_order.customer_id, v_bot, v_order.total, v_order.currency,
              bot_start_payment.provider)
      returning * into payment;
  else
    select c.id into v_customer from app_public.customers c
      where c.tenant_id = v_tenant and c.telegram_id = bot_start_payment.telegram_id;
    if v_customer is null then
      raise exception 'No such customer' using errcode = 'TNFND';
    end if;
    insert into app_public.payments (tenant_id, kind, customer_id, bot_id, amount, currency, provider)
      values (v_tenant, 'deposit', v_customer, v_bot, bot_start_payment.amount, app_hidden.bot_store_currency(),
              bot_start_payment.provider)
      returning * into payment;
  end if;
  created := true;
end;
$$;
comment on function app_hidden.bot_start_payment(uuid, bigint, numeric, text) is E'@module payments\n'
  'Starts a payment of an order of this bot (taking its stock; a payment already in flight is returned) '
  'or a deposit for a customer; the server then asks the provider for the invoice.';
grant execute on function app_hidden.bot_start_payment(uuid, bigint, numeric, text) to :DATABASE_BOT;

create function app_private.attach_invoice(payment_id uuid, provider_payment_id text, payment_url text)
  returns app_public.payments
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  update app_public.payments p
    set provider_payment_id = attach_invoice.provider_payment_id, payment_url = attach_invoice.payment_url
    where p.id = attach_invoice.payment_id and p.status = 'pending' and p.provider_payment_id is null
    returning *;
$$;
comment on function app_private.attach_invoice(uuid, text, text) is E'@module payments\n'
  'Records the provider''s invoice of a payment that has none yet.';

create function app_private.close_payment(payment_id uuid, status text, reason text) returns app_public.payments
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_payment app_public.payments;
begin
  update app_public.payments p
    set status = close_payment.status, failure_reason = close_payment.reason,
        failed_at = case when close_payment.status = 'failed' then now() end,
        expired_at = case when close_payment.status = 'expired' then now() end
    where p.id = close_payment.payment_id and p.status = 'pending'
    returning * into v_payment;
  if v_payment.id is null then
    return null;
  end if;
  if v_payment.order_id is not null then
    -- The order's lock before its products', as everywhere.
    perform 1 from app_public.orders o where o.id = v_payment.order_id for update;
    perform app_private.move_order_stock(v_payment.order_id, 1);
  end if;
  perform app_private.record_bot_event(v_payment.tenant_id, v_payment.bot_id, 'payment.' || close_payment.status,
    app_private.payment_event_payload(v_payment, null));
  return v_payment;
end;
$$;

create function app_private.payment_event_payload(v_payment app_public.payments, order_paid boolean) returns jsonb
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'paymentId', v_payment.id, 'kind', v_payment.kind, 'orderId', v_payment.order_id,
    'telegramId', (select c.telegram_id::text from app_public.customers c where c.id = v_payment.customer_id),
    'amount', to_char(v_payment.amount, 'FM999999999999999990.00'), 'currency', v_payment.currency,
    'status', v_payment.status, 'orderPaid', payment_event_payload.order_paid));
$$;
comment on function app_private.payment_event_payload(app_public.payments, boolean) is E'@module payments\n'
  'What a bot is told about a payment (its event''s payload).';
comment on function app_private.close_payment(uuid, text, text) is E'@module payments\n'
  'Fails or expires a pending payment: its order''s stock goes back, the bot is told. Not pending: null.';

--------------------------------------------------------------------------------------------------
-- Settling: a success credits the customer, then completes the order (if it still can be); a
-- failure gives the stock back. Shared by webhooks and the polling job.

create function app_private.settle_payment(payment_id uuid, outcome text, amount numeric, currency text,
  source text) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_payment app_public.payments;
  v_order app_public.orders;
  v_order_paid boolean := false;
begin
  select * into v_payment from app_public.payments p where p.id = settle_payment.payment_id for update;
  if v_payment.id is null then
    raise exception 'No such payment' using errcode = 'TNFND';
  end if;
  if settle_payment.amount is distinct from v_payment.amount or settle_payment.currency is distinct from v_payment.currency
  then
    raise exception 'The amount % % is not the payment''s % %', settle_payment.amount, settle_payment.currency,
      v_payment.amount, v_payment.currency using errcode = 'TPAMT';
  end if;
  if settle_payment.outcome = 'failed' then
    if v_payment.status = 'pending' then
      perform app_private.close_payment(v_payment.id, 'failed', 'The provider reported a failure (' || source || ')');
      return 'failed';
    end if;
    return 'unchanged';
  end if;
  if settle_payment.outcome <> 'succeeded' then
    raise exception 'Unknown outcome %', settle_payment.outcome using errcode = '22023';
  end if;
  if v_payment.status = 'succeeded' then
    return 'unchanged';
  end if;
  -- Money arrived: it is the customer's first. A late success (the payment had failed or expired,
  -- its stock went back) stays on the balance.
  update app_public.payments p set status = 'succeeded', paid_at = now(), failure_reason = null
    where p.id = v_payment.id returning * into v_payment;
  insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, bot_id, order_id, payment_id)
    values (v_payment.tenant_id, v_payment.customer_id, 'deposit', v_payment.amount, v_payment.currency,
            v_payment.bot_id, v_payment.order_id, v_payment.id);
  if v_payment.order_id is not null then
    select * into v_order from app_public.orders o where o.id = v_payment.order_id for update;
    if v_order.status = 'pending' and v_payment.expired_at is null and v_payment.failed_at is null then
      perform app_private.complete_order_purchase(v_order, v_payment.id);
      v_order_paid := true;
    end if;
  end if;
  perform app_private.record_bot_event(v_payment.tenant_id, v_payment.bot_id, 'payment.succeeded',
    app_private.payment_event_payload(v_payment, case when v_payment.order_id is not null then v_order_paid end));
  return 'succeeded';
end;
$$;
comment on function app_private.settle_payment(uuid, text, numeric, text, text) is E'@module payments\n'
  'Applies a provider''s outcome to a payment (an amount that disagrees: PAYMENT_AMOUNT_MISMATCH, nothing '
  'changes); a repeated outcome changes nothing. Returns succeeded, failed or unchanged.';

create function app_private.expire_payment(payment_id uuid) returns app_public.payments
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.close_payment(expire_payment.payment_id, 'expired', 'Not paid in time');
$$;
comment on function app_private.expire_payment(uuid) is E'@module payments\n'
  'Expires a pending payment (its stock goes back); null when it is no longer pending.';

--------------------------------------------------------------------------------------------------
-- Webhook deliveries: every one recorded; one webhook-id processed once.

create table app_private.payment_webhooks (
  id bigint primary key generated always as identity,
  provider text not null,
  webhook_id text,
  received_at timestamptz not null default now(),
  outcome text not null check (outcome in ('processed', 'duplicate', 'invalid_signature', 'malformed',
                                           'unknown_payment', 'amount_mismatch', 'error')),
  http_status integer not null,
  payment_id uuid references app_public.payments on delete set null,
  event_type text,
  detail text
);
create unique index payment_webhooks_processed_key on app_private.payment_webhooks (provider, webhook_id)
  where outcome = 'processed';
create index payment_webhooks_payment_idx on app_private.payment_webhooks (payment_id);
comment on table app_private.payment_webhooks is E'@module payments\n'
  'Every webhook delivery from a payment provider: when it came and what became of it.';

create function app_private.receive_payment_webhook(provider text, webhook_id text, event_type text,
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
  select p.id into v_payment from app_public.payments p
    where p.provider = receive_payment_webhook.provider
      and p.provider_payment_id = receive_payment_webhook.provider_payment_id;
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
    raise exception 'No payment % at provider %', receive_payment_webhook.provider_payment_id,
      receive_payment_webhook.provider using errcode = 'TNFND';
  end if;
  return app_private.settle_payment(v_payment, replace(receive_payment_webhook.event_type, 'payment.', ''),
    receive_payment_webhook.amount, receive_payment_webhook.currency, 'webhook');
end;
$$;
comment on function app_private.receive_payment_webhook(text, text, text, text, numeric, text) is
  E'@module payments\n'
  'Processes one verified webhook delivery once (a webhook-id seen before: duplicate, nothing changes).';

--! split: 3-subscriptions.sql
--------------------------------------------------------------------------------------------------
-- 3-subscriptions: subscriptions the store sells on behalf of a provider (Contms).
--
-- The provider's catalogue is synced into each commerce tenant's products (kind 'subscription'),
-- one app_public.subscription_plans row per product tying it to the provider's product id. When an
-- order with such a product is paid, the order_paid consumer calls
-- app_private.create_order_subscriptions: one pending app_public.subscriptions row per unit, and an
-- issue_subscription job per row (same transaction). The job asks the provider for the
-- subscription and stores its credentials sealed by the server (AES-256-GCM) in
-- app_private.subscription_credentials, which no request role can read; the bot API gets the
-- sealed values of its own tenant through app_hidden.bot_subscription_credentials and the server
-- opens them.

drop function if exists app_hidden.bot_subscription_credentials(uuid[]);
drop function if exists app_private.create_order_subscriptions(uuid);
drop function if exists app_private.sync_subscription_plans(jsonb);
drop function if exists app_private.record_issued_subscription(uuid, text, timestamptz, text);
drop table if exists app_private.subscription_credentials cascade;
drop table if exists app_public.subscriptions cascade;
drop table if exists app_public.subscription_plans cascade;

--------------------------------------------------------------------------------------------------
-- Plans: which products are the provider's.

create table app_public.subscription_plans (
  product_id uuid primary key,
  tenant_id uuid not null references app_public.tenants on delete cascade,
  provider_product_id text not null check (length(provider_product_id) between 1 and 200),
  duration_days integer check (duration_days between 1 and 36600),
  synced_at timestamptz not null default now(),
  delisted_at timestamptz,
  unique (tenant_id, provider_product_id),
  foreign key (tenant_id, product_id) references app_public.products (tenant_id, id) on delete cascade
);
create unique index subscription_plans_tenant_id_product_id_key
  on app_public.subscription_plans (tenant_id, product_id);
comment on table app_public.subscription_plans is E'@module subscriptions\n@behavior -insert -update -delete\n'
  'A product of the store that the subscription provider (Contms) sells: its id there and the duration. '
  'Written by the sync job only; delisted_at: when the provider stopped listing it (the sync then deactivated '
  'the product).';
comment on constraint subscription_plans_tenant_id_product_id_fkey on app_public.subscription_plans
  is E'@behavior -*';
alter table app_public.subscription_plans enable row level security;
create policy select_member on app_public.subscription_plans for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce')));
grant select on app_public.subscription_plans to :DATABASE_VISITOR;

-- Upserts the provider's products into every active tenant with commerce on; products the provider
-- no longer lists are deactivated (never deleted: orders name them). A product the sync deactivated
-- is reactivated when the provider lists it again; one an admin deactivated stays so.
create function app_private.sync_subscription_plans(items jsonb)
  returns table (tenant_id uuid, upserted integer, deactivated integer)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid;
  v_item jsonb;
  v_product uuid;
  v_ids text[];
begin
  if jsonb_typeof(sync_subscription_plans.items) is distinct from 'array' then
    raise exception 'items must be an array' using errcode = 'TVALD';
  end if;
  select coalesce(array_agg(i ->> 'id'), '{}') into v_ids from jsonb_array_elements(sync_subscription_plans.items) i;
  for v_tenant in
    select t.id from app_public.tenants t
    where t.status = 'active' and app_private.tenant_module_enabled(t.id, 'commerce')
    order by t.id
  loop
    tenant_id := v_tenant;
    upserted := 0;
    for v_item in select i from jsonb_array_elements(sync_subscription_plans.items) i loop
      select p.product_id into v_product from app_public.subscription_plans p
        where p.tenant_id = v_tenant and p.provider_product_id = v_item ->> 'id' for update;
      if v_product is null then
        insert into app_public.products (tenant_id, name, description, price, currency, kind)
          values (v_tenant, v_item ->> 'name', v_item ->> 'description', (v_item ->> 'price')::numeric,
                  v_item ->> 'currency', 'subscription')
          returning id into v_product;
        insert into app_public.subscription_plans (product_id, tenant_id, provider_product_id, duration_days)
          values (v_product, v_tenant, v_item ->> 'id', (v_item ->> 'durationDays')::integer);
      else
        update app_public.products p
          set name = v_item ->> 'name', description = v_item ->> 'description',
              price = (v_item ->> 'price')::numeric, currency = v_item ->> 'currency', kind = 'subscription',
              active = p.active or exists (select 1 from app_public.subscription_plans s
                                           where s.product_id = v_product and s.delisted_at is not null)
          where p.id = v_product;
        update app_public.subscription_plans s
          set duration_days = (v_item ->> 'durationDays')::integer, synced_at = now(), delisted_at = null
          where s.product_id = v_product;
      end if;
      upserted := upserted + 1;
    end loop;
    with delisted as (
      update app_public.subscription_plans s set delisted_at = now()
        where s.tenant_id = v_tenant and s.delisted_at is null and not (s.provider_product_id = any (v_ids))
        returning s.product_id
    )
    update app_public.products p set active = false
      from delisted d where p.id = d.product_id and p.active;
    get diagnostics deactivated = row_count;
    return next;
  end loop;
end;
$$;
comment on function app_private.sync_subscription_plans(jsonb) is E'@module subscriptions\n'
  'Upserts the provider''s products [{id, name, description, price, currency, durationDays}] into every active '
  'tenant with commerce on (kind subscription) and deactivates the plans it no longer lists.';

--------------------------------------------------------------------------------------------------
-- Subscriptions: one per unit of a paid order's subscription product.

create table app_public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  customer_id uuid not null,
  order_id uuid not null,
  product_id uuid not null,
  unit integer not null default 1 check (unit between 1 and 10000),
  status text not null default 'pending' check (status in ('pending', 'active', 'failed')),
  provider_subscription_id text check (length(provider_subscription_id) between 1 and 200),
  expires_at timestamptz,
  issued_at timestamptz,
  created_at timestamptz not null default now(),
  unique (order_id, product_id, unit),
  foreign key (tenant_id, customer_id) references app_public.customers (tenant_id, id),
  foreign key (tenant_id, order_id) references app_public.orders (tenant_id, id),
  foreign key (tenant_id, product_id) references app_public.products (tenant_id, id)
);
create index subscriptions_customer_idx on app_public.subscriptions (tenant_id, customer_id, created_at desc, id desc);
create index subscriptions_order_idx on app_public.subscriptions (tenant_id, order_id);
create index subscriptions_product_idx on app_public.subscriptions (tenant_id, product_id);
-- The GraphQL type would otherwise be named Subscription, like the root subscription type.
comment on table app_public.subscriptions is E'@module subscriptions\n@name customer_subscriptions\n'
  '@behavior -insert -update -delete\n'
  'A subscription a customer bought, issued by the provider (Contms): pending until the provider answered, '
  'active once issued, failed when every attempt failed. Its credentials are kept sealed, out of this table.';
comment on column app_public.subscriptions.unit is 'Which unit of the order line (an order of 2 gives 2 subscriptions).';
comment on constraint subscriptions_tenant_id_customer_id_fkey on app_public.subscriptions is E'@behavior -*';
comment on constraint subscriptions_tenant_id_order_id_fkey on app_public.subscriptions is E'@behavior -*';
comment on constraint subscriptions_tenant_id_product_id_fkey on app_public.subscriptions is E'@behavior -*';
alter table app_public.subscriptions enable row level security;
create policy select_orders_read on app_public.subscriptions for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy select_bot on app_public.subscriptions for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.subscriptions to :DATABASE_VISITOR, :DATABASE_BOT;

-- {login, password, url} as JSON, sealed by the server: never readable by a request role.
create table app_private.subscription_credentials (
  subscription_id uuid primary key references app_public.subscriptions on delete cascade,
  sealed text not null,
  created_at timestamptz not null default now()
);
comment on table app_private.subscription_credentials is
  E'@module subscriptions\nEach issued subscription''s credentials, encrypted by the server.';

-- What order_paid's consumer does: the order's subscriptions (one per unit of each line whose product
-- is a provider plan) and one issue_subscription job each. Idempotent: a second call adds nothing.
create function app_private.create_order_subscriptions(order_id uuid) returns integer
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_row record;
  v_count integer := 0;
begin
  for v_row in
    insert into app_public.subscriptions (tenant_id, customer_id, order_id, product_id, unit)
      select o.tenant_id, o.customer_id, o.id, i.product_id, u.unit
      from app_public.orders o
      join app_public.order_items i on i.order_id = o.id
      join app_public.products p on p.id = i.product_id and p.kind = 'subscription'
      join app_public.subscription_plans s on s.product_id = i.product_id
      cross join lateral generate_series(1, i.quantity) as u(unit)
      where o.id = create_order_subscriptions.order_id and o.status in ('paid', 'fulfilled')
      order by i.product_id, u.unit
      on conflict do nothing
      returning id, tenant_id
  loop
    perform app_private.enqueue_job('issue_subscription',
      json_build_object('subscriptionId', v_row.id, 'tenantId', v_row.tenant_id),
      job_key => 'issue_subscription:' || v_row.id, max_attempts => 10);
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
comment on function app_private.create_order_subscriptions(uuid) is E'@module subscriptions\n'
  'A paid order''s subscriptions (one per unit of each provider plan it holds), each with its issue_subscription '
  'job; nothing new when called again.';

-- The issuing job's last step: the provider's answer, stored once (a retried job changes nothing).
create function app_private.record_issued_subscription(subscription_id uuid, provider_subscription_id text,
                                                       expires_at timestamptz, sealed text) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  insert into app_private.subscription_credentials (subscription_id, sealed)
    values (record_issued_subscription.subscription_id, record_issued_subscription.sealed)
    on conflict do nothing;
  update app_public.subscriptions s
    set status = 'active', provider_subscription_id = record_issued_subscription.provider_subscription_id,
        expires_at = record_issued_subscription.expires_at, issued_at = now()
    where s.id = record_issued_subscription.subscription_id and s.status <> 'active';
  return found;
end;
$$;
comment on function app_private.record_issued_subscription(uuid, text, timestamptz, text) is E'@module subscriptions\n'
  'Marks a subscription active with the provider''s id and expiry and keeps its sealed credentials, once.';

create function app_hidden.bot_subscription_credentials(subscription_ids uuid[])
  returns table (subscription_id uuid, sealed text)
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select c.subscription_id, c.sealed
  from app_private.subscription_credentials c
  join app_public.subscriptions s on s.id = c.subscription_id
  where s.tenant_id = app_hidden.bot_tenant_id() and c.subscription_id = any (bot_subscription_credentials.subscription_ids);
$$;
comment on function app_hidden.bot_subscription_credentials(uuid[]) is E'@module subscriptions\n'
  'The sealed credentials of these subscriptions of the bot''s tenant (the server opens them).';
revoke execute on function app_hidden.bot_subscription_credentials(uuid[]) from public, :DATABASE_VISITOR;
grant execute on function app_hidden.bot_subscription_credentials(uuid[]) to :DATABASE_BOT;
