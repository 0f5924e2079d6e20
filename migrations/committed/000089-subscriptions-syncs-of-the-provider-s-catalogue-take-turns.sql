--! Previous: sha1:6ddf54869a9a384b06b7baa0a126635256424ef9
--! Hash: sha1:069a14857bd037f0f9cde2c1c3fb05dbab5018bc
--! Message: Subscriptions: syncs of the provider's catalogue take turns

--! split: 100-subscriptions.sql
-- Syncs of the provider's catalogue take turns (a cron run beside one enqueued by hand).
create or replace function app_private.sync_subscription_plans(items jsonb)
 RETURNS TABLE(tenant_id uuid, upserted integer, deactivated integer)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_tenant uuid;
  v_item jsonb;
  v_product uuid;
  v_ids text[];
begin
  if jsonb_typeof(sync_subscription_plans.items) is distinct from 'array' then
    raise exception 'items must be an array' using errcode = 'TVALD';
  end if;
  -- One sync at a time: two at once both found a new product missing, and the second to insert it
  -- failed on subscription_plans' unique key. The next one reads what this one wrote.
  perform pg_advisory_xact_lock(hashtext('app_private.sync_subscription_plans'));
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
                                           where s.product_id = v_product and s.delisted_at is not null
                                             and s.delisting_deactivated)
          where p.id = v_product;
        update app_public.subscription_plans s
          set duration_days = (v_item ->> 'durationDays')::integer, synced_at = now(), delisted_at = null,
              delisting_deactivated = false
          where s.product_id = v_product;
      end if;
      upserted := upserted + 1;
    end loop;
    -- Whether the delisting is what turns the product off (the statement's snapshot: before it does).
    with delisted as (
      update app_public.subscription_plans s set delisted_at = now(),
          delisting_deactivated = exists (select 1 from app_public.products p where p.id = s.product_id and p.active)
        where s.tenant_id = v_tenant and s.delisted_at is null and not (s.provider_product_id = any (v_ids))
        returning s.product_id
    )
    update app_public.products p set active = false
      from delisted d where p.id = d.product_id and p.active;
    get diagnostics deactivated = row_count;
    return next;
  end loop;
end;
$function$;
comment on function app_private.sync_subscription_plans(jsonb) is '@module subscriptions
Upserts the provider''s products [{id, name, description, price, currency, durationDays}] into every active tenant with commerce on (kind subscription) and deactivates the plans it no longer lists; one listed again is switched on again only if its delisting switched it off.';
