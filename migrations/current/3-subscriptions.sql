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
