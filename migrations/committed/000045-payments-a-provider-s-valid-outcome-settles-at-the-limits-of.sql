--! Previous: sha1:767e677fa4f025cfabbf91b1074b47cd3dc3660c
--! Hash: sha1:a71349034206c5f605e7b953b9a78928dfa49452
--! Message: Payments: a provider's valid outcome settles at the limits of balances and stock: the purchase before the deposit for a balance near its largest value, a referral payout cut to what the referrer's balance holds, stock given back up to the integer's largest value; a deposit the balance could not hold is refused when it starts

--! split: 700-payments.sql
-- Valid provider outcomes are never refused at the limits of the money and stock columns
-- (customer balances are numeric(18,2), stock an integer):
-- - settling an order's payment for a customer whose balance is within the payment of the largest
--   balance posts the purchase before the deposit (the deposit first would pass the limit in
--   between, and the webhook was refused with 400, the money taken and not recorded);
-- - a referral payout is cut to what the referrer's balance can still hold;
-- - stock given back (a failed or expired payment) stops at the integer's largest value;
-- - a deposit the customer's balance could not hold is refused before the provider is asked.

create or replace function app_private.move_order_stock(order_id uuid, direction integer)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
      -- Given back up to the column's largest value: an admin who set the stock to it meant "plenty".
      update app_public.products p set stock = least(p.stock::bigint + v_item.quantity, 2147483647)::integer
        where p.id = v_item.product_id and p.stock is not null;
    end if;
  end loop;
end;
$function$;

create or replace function app_private.complete_order_purchase(v_order app_public.orders, payment_id uuid DEFAULT NULL::uuid)
 RETURNS app_public.orders
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_referrer uuid;
  v_percent numeric;
  v_payout numeric;
  v_held numeric;
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
      -- A balance holds at most numeric(18,2): a payout that would take the referrer's past it is cut
      -- to what fits (nothing at the cap), so the referrer's balance never blocks the buyer.
      select b.balance into v_held from app_public.customer_balances b
        where b.customer_id = v_referrer and b.currency = v_order.currency for update;
      v_payout := least(v_payout, 9999999999999999.99 - coalesce(v_held, 0));
    end if;
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
$function$;

create or replace function app_private.settle_payment(payment_id uuid, outcome text, amount numeric, currency text, source text)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_payment app_public.payments;
  v_order app_public.orders;
  v_order_paid boolean := false;
  v_purchase_first boolean := false;
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
  if v_payment.order_id is not null then
    select * into v_order from app_public.orders o where o.id = v_payment.order_id for update;
    v_order_paid := v_order.status = 'pending' and v_payment.expired_at is null and v_payment.failed_at is null;
  end if;
  -- The deposit and the purchase cancel out on the customer's balance. With the balance so near
  -- numeric(18,2)'s largest value that the deposit would pass it, the purchase goes first (such a
  -- balance covers it), so a valid outcome is never refused in between.
  if v_order_paid then
    v_purchase_first := coalesce((select b.balance from app_public.customer_balances b
                                  where b.customer_id = v_payment.customer_id and b.currency = v_payment.currency), 0)
                        + v_payment.amount > 9999999999999999.99;
  end if;
  if v_purchase_first then
    perform app_private.complete_order_purchase(v_order, v_payment.id);
  end if;
  insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, bot_id, order_id, payment_id)
    values (v_payment.tenant_id, v_payment.customer_id, 'deposit', v_payment.amount, v_payment.currency,
            v_payment.bot_id, v_payment.order_id, v_payment.id);
  if v_order_paid and not v_purchase_first then
    perform app_private.complete_order_purchase(v_order, v_payment.id);
  end if;
  perform app_private.record_bot_event(v_payment.tenant_id, v_payment.bot_id, 'payment.succeeded',
    app_private.payment_event_payload(v_payment, case when v_payment.order_id is not null then v_order_paid end));
  return 'succeeded';
end;
$function$;

create or replace function app_hidden.bot_start_payment(order_id uuid, telegram_id bigint, amount numeric, provider text, OUT payment app_public.payments, OUT created boolean)
 RETURNS record
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
    -- Refused before the provider is asked: money it took could not be credited.
    if coalesce((select b.balance from app_public.customer_balances b
                 where b.customer_id = v_customer and b.currency = app_hidden.bot_store_currency()), 0)
       + bot_start_payment.amount > 9999999999999999.99 then
      raise exception 'The customer''s balance cannot hold this deposit' using errcode = 'TVALD';
    end if;
    insert into app_public.payments (tenant_id, kind, customer_id, bot_id, amount, currency, provider)
      values (v_tenant, 'deposit', v_customer, v_bot, bot_start_payment.amount, app_hidden.bot_store_currency(),
              bot_start_payment.provider)
      returning * into payment;
  end if;
  created := true;
end;
$function$;

comment on function app_private.move_order_stock(uuid,integer) is '@module payments
Takes (direction < 0) or gives back an order''s stock; taking refuses with OUT_OF_STOCK and changes nothing; giving back stops at the integer''s largest value.';
comment on function app_private.complete_order_purchase(app_public.orders,uuid) is '@module payments
The purchase of an order whose stock is taken: ledger entries (INSUFFICIENT_BALANCE), referral payout (cut to what the referrer''s balance can hold), status, order_paid.';
comment on function app_hidden.bot_start_payment(uuid,bigint,numeric,text) is '@module payments
Starts a payment of an order of this bot (taking its stock; a payment already in flight is returned) or a deposit for a customer (VALIDATION_FAILED when the customer''s balance could not hold it); the server then asks the provider for the invoice.';
