--! Previous: sha1:e5b635ef128ef29a2aee13811a8dd522a4f525c8
--! Hash: sha1:38c61f1a4763a0ee87f2b8c03411ed2ef572ce73
--! Message: Subscriptions: a plan is issued whatever kind an admin gave its product

--! split: 100-subscriptions.sql
-- A plan is issued whatever kind its product shows. The provider is the source of truth for its plans
-- (the sync writes name, price and kind); an admin who switched a plan's product to `goods` made its
-- paid units get no subscription, and nothing said so. The plan row decides now.
create or replace function app_private.create_order_subscriptions(order_id uuid) returns integer
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
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
comment on function app_private.create_order_subscriptions(uuid) is '@module subscriptions
A paid order''s subscriptions (one per unit of each provider plan it holds, whatever kind an admin gave the plan''s product), each with its issue_subscription job; nothing new when called again.';
