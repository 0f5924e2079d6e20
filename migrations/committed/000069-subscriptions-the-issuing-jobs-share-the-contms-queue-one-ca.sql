--! Previous: sha1:1b3dd09860373d17c475511053e8319e3433ae5f
--! Hash: sha1:b7bcc2f22b8d9dadfe336d049875489d2b4ac43f
--! Message: Subscriptions: the issuing jobs share the contms queue, one call to the provider at a time (a hanging provider held every worker slot)

--! split: 100-subscriptions.sql
-- Issuing jobs share one graphile-worker queue, `contms`: they run one at a time. Before, a provider
-- that hung held a worker slot per pending subscription (each call waits its 15 s timeout), so one
-- big order took every slot and the deployment's e-mail, payments and builds waited behind it.
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
      job_key => 'issue_subscription:' || v_row.id, max_attempts => 10, queue_name => 'contms');
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
comment on function app_private.create_order_subscriptions(uuid) is E'@module subscriptions\n'
  'A paid order''s subscriptions (one per unit of each provider plan it holds), each with its issue_subscription '
  'job in the contms queue (one call to the provider at a time); nothing new when called again.';
