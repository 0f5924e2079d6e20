--! Previous: sha1:e8dd616046445ddbc5a4ad4d19d9165714579992
--! Hash: sha1:70eebbe58819f991044841b1132ab8aae9a51b7a
--! Message: Payments and broadcasts after an outside attack: the payments order index, bot pushes queued per tenant, telegramId a number in bot events, blank broadcast texts refused

--! split: 1-current.sql
-- Enter migration here

--! split: 2-payments.sql
-- Payments: the order foreign key gets its supporting index (the pending-order index covers only
-- pending payments).
create index if not exists payments_order_idx on app_public.payments (tenant_id, order_id);

-- Bots' events carry the customer's telegram id as a number, as the REST routes take it.
create or replace function app_private.payment_event_payload(v_payment app_public.payments, order_paid boolean)
  returns jsonb
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'paymentId', v_payment.id, 'kind', v_payment.kind, 'orderId', v_payment.order_id,
    'telegramId', (select c.telegram_id from app_public.customers c where c.id = v_payment.customer_id),
    'amount', to_char(v_payment.amount, 'FM999999999999999990.00'), 'currency', v_payment.currency,
    'status', v_payment.status, 'orderPaid', payment_event_payload.order_paid));
$$;

-- Pushes to bots run one at a time per tenant: a tenant whose bots' URLs are slow (or never answer)
-- holds at most one worker slot, never every tenant's background work.
create or replace function app_private.record_bot_event(tenant_id uuid, bot_id uuid, type text, payload jsonb)
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
      max_attempts => 12, queue_name => 'bot_events_' || record_bot_event.tenant_id);
  end if;
  return v_id;
end;
$$;
comment on function app_private.record_bot_event(uuid, uuid, text, jsonb) is E'@module payments\n'
  'Records an event for a bot and, when the bot has a webhook URL, enqueues its push (one queue per tenant).';

--! split: 3-broadcasts.sql
-- Broadcasts: a text of spaces only is refused (Telegram refuses empty messages: every delivery
-- would fail).
alter table app_public.broadcasts drop constraint if exists broadcasts_text_not_blank;
alter table app_public.broadcasts add constraint broadcasts_text_not_blank
  check (btrim(text, E' \t\r\n') <> '');
