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
