--! Previous: sha1:a38b8fd328b3e604e99e5d5824bb7be5ec83fd71
--! Hash: sha1:2dedc29ba5bdc463171670f5d6eb5405946ee51e
--! Message: Subscriptions: an admin's word on a delisted plan's product outlasts the delisting; a delisted plan's product cannot be switched on

--! split: 100-subscriptions.sql
-- An admin's word on a plan's product outlasts its delisting: switching the product off while the
-- provider does not list the plan keeps it off when the plan is listed again (before, the next sync
-- switched it back on). A delisted plan's product cannot be switched on: the provider would not
-- issue what the store sold.
create or replace function app_private.tg_products__delisted_plan() returns trigger
  language plpgsql security definer set search_path to pg_catalog, public, pg_temp as $$
begin
  if new.active then
    if not old.active and exists (select 1 from app_public.subscription_plans s
                                  where s.product_id = new.id and s.delisted_at is not null) then
      raise exception 'The provider no longer lists this plan: its product can be switched on once it is listed again'
        using errcode = 'TCONF', detail = json_build_object('reason', 'PLAN_DELISTED')::text;
    end if;
  else
    update app_public.subscription_plans s set delisting_deactivated = false
      where s.product_id = new.id and s.delisted_at is not null and s.delisting_deactivated;
  end if;
  return null;
end;
$$;
comment on function app_private.tg_products__delisted_plan() is '@module subscriptions
A product given `active` while its plan is delisted: switched on, refused (CONFLICT PLAN_DELISTED); kept or switched off, it stays off when the plan is listed again.';
revoke all on function app_private.tg_products__delisted_plan() from public;

drop trigger if exists _300_delisted_plan on app_public.products;
create trigger _300_delisted_plan after update of active on app_public.products
  for each row execute function app_private.tg_products__delisted_plan();

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
  v_relist boolean;
  v_off uuid[];
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
      select p.product_id, p.delisted_at is not null and p.delisting_deactivated into v_product, v_relist
        from app_public.subscription_plans p
        where p.tenant_id = v_tenant and p.provider_product_id = v_item ->> 'id' for update;
      if v_product is null then
        insert into app_public.products (tenant_id, name, description, price, currency, kind)
          values (v_tenant, v_item ->> 'name', v_item ->> 'description', (v_item ->> 'price')::numeric,
                  v_item ->> 'currency', 'subscription')
          returning id into v_product;
        insert into app_public.subscription_plans (product_id, tenant_id, provider_product_id, duration_days)
          values (v_product, v_tenant, v_item ->> 'id', (v_item ->> 'durationDays')::integer);
      else
        -- The plan is listed before its product is switched on: a delisted plan's product cannot be.
        update app_public.subscription_plans s
          set duration_days = (v_item ->> 'durationDays')::integer, synced_at = now(), delisted_at = null,
              delisting_deactivated = false
          where s.product_id = v_product;
        update app_public.products p
          set name = v_item ->> 'name', description = v_item ->> 'description',
              price = (v_item ->> 'price')::numeric, currency = v_item ->> 'currency', kind = 'subscription',
              active = p.active or v_relist
          where p.id = v_product;
      end if;
      upserted := upserted + 1;
    end loop;
    -- The products first, then their plans, marked with whether the delisting is what switched their
    -- product off. Two statements: the products' trigger (after each statement) reads plans not yet
    -- delisted, and leaves them alone.
    with switched_off as (
      update app_public.products p set active = false
        from app_public.subscription_plans s
        where s.tenant_id = v_tenant and s.delisted_at is null and not (s.provider_product_id = any (v_ids))
          and p.id = s.product_id and p.active
        returning p.id
    )
    select coalesce(array_agg(o.id), '{}') into v_off from switched_off o;
    update app_public.subscription_plans s set delisted_at = now(), delisting_deactivated = s.product_id = any (v_off)
      where s.tenant_id = v_tenant and s.delisted_at is null and not (s.provider_product_id = any (v_ids));
    deactivated := cardinality(v_off);
    return next;
  end loop;
end;
$function$;
comment on function app_private.sync_subscription_plans(jsonb) is '@module subscriptions
Upserts the provider''s products [{id, name, description, price, currency, durationDays}] into every active tenant with commerce on (kind subscription) and deactivates the plans it no longer lists; one listed again is switched on again only if its delisting switched it off.';
