--! Previous: sha1:16cf0f1bbd4b3f611a1e3a34b9a4ac86b5656f68
--! Hash: sha1:f532a40649d1502b07c93e658f565913bcc8d5f9
--! Message: Subscriptions: the issuing jobs leave the contms queue again (a named queue moved one job per 2 s poll: one order of 10,000 units held every store's issuance for hours)

--! split: 100-subscriptions.sql
-- The issuing jobs leave the shared `contms` queue of migration 000069. A named queue moves one job
-- per poll of the worker (2 s) when nothing else wakes it: about one subscription every two seconds
-- for every store together, so one order of 10,000 units held every store's issuance for hours. The
-- jobs run in the worker's slots as before; a provider that hangs can again hold those slots, up to
-- its 15 s timeout per call (a runner of their own, as e-mail has, is the way to bound that).
create or replace function app_private.create_order_subscriptions(order_id uuid) returns integer
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
