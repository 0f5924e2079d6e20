--! Previous: sha1:6bd7960b549167fad27b7f4e2f2b446e1fb32d20
--! Hash: sha1:cc9fd7b4b30a1896f60f85529edab4232f9d2d19
--! Message: Commerce after an outside attack: bots pay their own orders, a disabled bot's orders are not paid, no category loops, products on sale only under live categories, at most 10,000 units a line, storeBalance behind the access guard

--! split: 070-commerce.sql
--------------------------------------------------------------------------------------------------
-- 070-commerce: what an outside attack on the bot store found.
--
-- * A bot pays only the orders placed through it, and an order of a disabled bot is not paid
--   (its referral percent no longer applies): FORBIDDEN.
-- * The category tree has no cycles (a trigger, serialised per tenant), and a product is on sale
--   only while its category and every one above it are active.
-- * An order line holds at most 10,000 units (the REST cap, now the table's too).
-- * storeBalance goes through the access guard: signed in, commerce on, orders.read.

create or replace function app_private.category_is_live(category_id uuid) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  with recursive up as (
    select c.id, c.parent_id, c.active from app_public.categories c where c.id = category_is_live.category_id
    union
    select c.id, c.parent_id, c.active from app_public.categories c join up on c.id = up.parent_id
  )
  select category_is_live.category_id is null
      or coalesce(bool_and(up.active) and count(*) filter (where up.parent_id is null) = 1, false)
  from up;
$$;
comment on function app_private.category_is_live(uuid) is E'@module commerce\n'
  'True when the category and every one above it up to a root are active (null: no category).';

create or replace function app_private.tg_categories__no_cycle() returns trigger
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.parent_id is null then
    return new;
  end if;
  -- Two moves at once could each close half of a loop: one tree change per tenant at a time.
  perform pg_advisory_xact_lock(hashtext('categories'), hashtext(new.tenant_id::text));
  if exists (
    with recursive up as (
      select c.id, c.parent_id from app_public.categories c where c.id = new.parent_id
      union
      select c.id, c.parent_id from app_public.categories c join up on c.id = up.parent_id
    )
    select 1 from up where up.id = new.id
  ) then
    raise exception 'A category cannot be inside itself' using errcode = 'TVALD';
  end if;
  return new;
end;
$$;
comment on function app_private.tg_categories__no_cycle() is
  E'@module commerce\nBefore a category gets a parent: refuses a parent inside the category itself (VALIDATION_FAILED).';
drop trigger if exists _200_no_cycle on app_public.categories;
create trigger _200_no_cycle before insert or update of parent_id on app_public.categories
  for each row execute function app_private.tg_categories__no_cycle();

alter table app_public.order_items drop constraint if exists order_items_quantity_most;
alter table app_public.order_items add constraint order_items_quantity_most check (quantity <= 10000);

create or replace function app_private.pay_order(tenant_id uuid, order_id uuid) returns app_public.orders
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_order app_public.orders;
  v_item record;
  v_referrer uuid;
  v_percent numeric;
  v_payout numeric;
begin
  select * into v_order from app_public.orders o
    where o.id = pay_order.order_id and o.tenant_id = pay_order.tenant_id for update;
  if v_order.id is null then
    raise exception 'No such order' using errcode = 'TNFND';
  end if;
  if v_order.status <> 'pending' then
    raise exception 'The order is %, not pending', v_order.status using errcode = 'TCONF';
  end if;
  select b.referral_percent into v_percent from app_public.bots b
    where b.id = v_order.bot_id and b.status = 'active';
  if not found then
    raise exception 'The bot this order was placed through is disabled' using errcode = 'TFORB';
  end if;
  -- Stock, product by product in id order; an update that finds too little changes nothing.
  for v_item in
    select i.product_id, i.quantity from app_public.order_items i
    where i.order_id = v_order.id order by i.product_id
  loop
    -- Under the row lock the condition is evaluated again on the latest stock.
    update app_public.products p set stock = p.stock - v_item.quantity
      where p.id = v_item.product_id and p.stock >= v_item.quantity;
    if not found and exists (select 1 from app_public.products p
                             where p.id = v_item.product_id and p.stock is not null) then
      raise exception 'Not enough stock left' using errcode = 'TSTCK';
    end if;
  end loop;
  if v_order.total > 0 then
    insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, bot_id, order_id)
      values (v_order.tenant_id, v_order.customer_id, 'purchase', -v_order.total, v_order.currency,
              v_order.bot_id, v_order.id),
             (v_order.tenant_id, null, 'purchase', v_order.total, v_order.currency, v_order.bot_id, v_order.id);
    select c.referred_by into v_referrer from app_public.customers c where c.id = v_order.customer_id;
    v_payout := round(v_order.total * v_percent / 100, 2);
    if v_referrer is not null and v_payout > 0 then
      insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, bot_id, order_id)
        values (v_order.tenant_id, null, 'referral_payout', -v_payout, v_order.currency, v_order.bot_id, v_order.id),
               (v_order.tenant_id, v_referrer, 'referral_payout', v_payout, v_order.currency, v_order.bot_id,
                v_order.id);
    end if;
  end if;
  update app_public.orders o set status = 'paid', paid_at = now() where o.id = v_order.id returning * into v_order;
  perform app_private.publish_event('order_paid', v_order.tenant_id, 'order', v_order.id::text,
    jsonb_build_object('orderId', v_order.id, 'total', v_order.total, 'currency', v_order.currency));
  return v_order;
end;
$$;
comment on function app_private.pay_order(uuid, uuid) is E'@module commerce\n'
  'Pays a pending order from its customer''s balance in one go: the order''s bot must be active (FORBIDDEN), '
  'stock (OUT_OF_STOCK), the purchase (INSUFFICIENT_BALANCE), the referrer''s payout, the status. Any refusal '
  'leaves everything as it was.';

create or replace function app_hidden.bot_pay_order(order_id uuid) returns app_public.orders
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_hidden.bot_tenant_id() is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  if exists (select 1 from app_public.orders o
             where o.id = bot_pay_order.order_id and o.tenant_id = app_hidden.bot_tenant_id()
               and o.bot_id is distinct from app_hidden.current_bot_id()) then
    raise exception 'The order was placed through another bot' using errcode = 'TFORB';
  end if;
  return app_private.pay_order(app_hidden.bot_tenant_id(), bot_pay_order.order_id);
end;
$$;
comment on function app_hidden.bot_pay_order(uuid) is E'@module commerce\n'
  'Pays an order placed through this bot from its customer''s balance (another bot''s order: FORBIDDEN).';

create or replace function app_public.store_balance(currency text default null) returns numeric
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access('commerce', 'orders.read');
  return (select coalesce(sum(t.amount), 0)::numeric(18,2) from app_public.transactions t
          where t.tenant_id = app_public.current_tenant_id() and t.customer_id is null
            and t.currency = coalesce(store_balance.currency,
                                      app_private.store_currency(app_public.current_tenant_id())));
end;
$$;
comment on function app_public.store_balance(text) is E'@module commerce\n'
  'The store''s own account (needs orders.read): the sum of its ledger entries in the currency (the store''s by default).';

-- An order names products on sale: active, and in a category that is live all the way up.
create or replace function app_hidden.bot_create_order(telegram_id bigint, items jsonb) returns app_public.orders
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_hidden.bot_tenant_id();
  v_customer uuid;
  v_order app_public.orders;
  v_currencies text[];
  v_short uuid;
  v_products uuid[];
  v_quantities integer[];
begin
  if v_tenant is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  select c.id into v_customer from app_public.customers c
    where c.tenant_id = v_tenant and c.telegram_id = bot_create_order.telegram_id;
  if v_customer is null then
    raise exception 'No customer has this telegram id' using errcode = 'TNFND';
  end if;
  if jsonb_typeof(items) is distinct from 'array' or jsonb_array_length(items) not between 1 and 100 then
    raise exception 'An order has 1 to 100 items' using errcode = 'TVALD';
  end if;
  -- The same product twice is one line; quantity > 0 is the table's constraint.
  select array_agg(l.product_id order by l.product_id), array_agg(l.quantity order by l.product_id)
    into v_products, v_quantities
    from (select (i ->> 'productId')::uuid as product_id, sum((i ->> 'quantity')::integer)::integer as quantity
          from jsonb_array_elements(items) i group by 1) l;
  if exists (select 1 from unnest(v_products) l(product_id)
             where not exists (select 1 from app_public.products p
                               where p.id = l.product_id and p.tenant_id = v_tenant and p.active
                                 and app_private.category_is_live(p.category_id))) then
    raise exception 'An item names a product this store does not sell' using errcode = 'TNFND';
  end if;
  select l.product_id into v_short
    from unnest(v_products, v_quantities) l(product_id, quantity) join app_public.products p on p.id = l.product_id
    where p.stock is not null and l.quantity > p.stock limit 1;
  if v_short is not null then
    raise exception 'Not enough stock left of product %', v_short using errcode = 'TSTCK';
  end if;
  select array_agg(distinct p.currency) into v_currencies
    from unnest(v_products) l(product_id) join app_public.products p on p.id = l.product_id;
  if cardinality(v_currencies) <> 1 then
    raise exception 'An order is in one currency' using errcode = 'TVALD';
  end if;
  insert into app_public.orders (tenant_id, bot_id, customer_id, total, currency)
    select v_tenant, app_hidden.current_bot_id(), v_customer, sum(l.quantity * p.price), v_currencies[1]
    from unnest(v_products, v_quantities) l(product_id, quantity) join app_public.products p on p.id = l.product_id
    returning * into v_order;
  insert into app_public.order_items (tenant_id, order_id, product_id, quantity, unit_price)
    select v_tenant, v_order.id, l.product_id, l.quantity, p.price
    from unnest(v_products, v_quantities) l(product_id, quantity) join app_public.products p on p.id = l.product_id;
  return v_order;
end;
$$;
comment on function app_hidden.bot_create_order(bigint, jsonb) is E'@module commerce\n'
  'Places a pending order of the customer with this telegram id through the bot: items [{productId, quantity}] '
  'of products on sale (active, in a live category) in one currency, no more than the stock left (OUT_OF_STOCK); prices are captured now.';
