--! Previous: sha1:0a3d07c3ed04ec74cc2df2f8012432f6b18f979e
--! Hash: sha1:e5b635ef128ef29a2aee13811a8dd522a4f525c8
--! Message: Payments: an order is paid only while the store still sells everything in it; a success after a product was switched off stays on the balance

--! split: 090-payments.sql
-- An order is paid only while the store still sells everything in it. Placing an order refuses a
-- product that is inactive (or in a switched-off category); paying one checked only the stock, so a
-- pending order for a product switched off since (an admin's deactivation, or a subscription plan
-- the provider stopped listing, which the sync deactivates) could still be paid: a plan then failed
-- to be issued for hours after the customer paid. Taking the order's stock (both ways of paying
-- start there) now refuses with CONFLICT; a provider's success that arrives after the product was
-- switched off keeps the money on the customer's balance and gives the stock back (orderPaid false).
create or replace function app_private.order_still_sold(order_id uuid) returns boolean
  language sql
  stable
  set search_path = pg_catalog, public, pg_temp
as $$
  select coalesce(bool_and(p.active and app_private.category_is_live(p.category_id)), true)
    from app_public.order_items i join app_public.products p on p.id = i.product_id
    where i.order_id = order_still_sold.order_id;
$$;
comment on function app_private.order_still_sold(uuid) is '@module payments
Whether every product of the order is still sold: active, in a live category (or none), as placing an order requires.';
revoke all on function app_private.order_still_sold(uuid) from public;

create or replace function app_private.move_order_stock(order_id uuid, direction integer) returns void
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
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
      -- Given back up to the column's largest value: an admin who set the stock to it meant "plenty".
      update app_public.products p set stock = least(p.stock::bigint + v_item.quantity, 2147483647)::integer
        where p.id = v_item.product_id and p.stock is not null;
    end if;
  end loop;
  -- Checked after the stock is taken, so on the latest rows: a deactivation committed while this
  -- waited for a product's lock is seen; the exception undoes the stock taken.
  if move_order_stock.direction < 0 and not app_private.order_still_sold(move_order_stock.order_id) then
    raise exception 'The order holds a product the store no longer sells' using errcode = 'TCONF';
  end if;
end;
$$;
comment on function app_private.move_order_stock(uuid,integer) is '@module payments
Takes (direction < 0) or gives back an order''s stock; taking refuses with CONFLICT when a product of the order is no longer sold, with OUT_OF_STOCK when too little is left, and changes nothing; giving back stops at the integer''s largest value.';

create or replace function app_private.settle_payment(payment_id uuid, outcome text, amount numeric, currency text,
                                                      source text) returns text
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
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
    -- A product of the order switched off since the payment started (a plan the provider dropped):
    -- the money stays on the balance and the stock goes back, as for a late success.
    if v_order_paid and not app_private.order_still_sold(v_order.id) then
      perform app_private.move_order_stock(v_order.id, 1);
      v_order_paid := false;
    end if;
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
$$;
comment on function app_private.settle_payment(uuid,text,numeric,text,text) is '@module payments
Applies a provider''s outcome to a payment (an amount that disagrees: PAYMENT_AMOUNT_MISMATCH, nothing changes; a success for an order the store no longer wholly sells stays on the balance, its stock given back); a repeated outcome changes nothing. Returns succeeded, failed or unchanged.';
