--! Previous: sha1:1cd25ccfd6e6426efe103d31b3a8be6e376149df
--! Hash: sha1:0d98311b461b737d0195bf0491741ff52f512fa6
--! Message: commerce: a bot request is checked again in its own transaction; an order's products are share-locked while it is placed

--! split: 070-commerce.sql
-- A bot's request is checked again in its own transaction: its API key not revoked, commerce on and
-- the tenant active, its bot active. The check before the body is read could be minutes old by the
-- time the body arrived, and a revoked key, a disabled bot or a switched-off module still wrote.
create or replace function app_hidden.confirm_bot_caller(api_key_id uuid) returns void
  language plpgsql
  stable
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_hidden.bot_tenant_id();
begin
  -- No key id: the deployment's SERVICE_API_KEY, which only its configuration revokes.
  if v_tenant is null or (confirm_bot_caller.api_key_id is not null and not exists (
       select 1 from app_public.api_keys k
       where k.id = confirm_bot_caller.api_key_id and k.tenant_id = v_tenant and k.revoked_at is null)) then
    raise exception 'The API key is not valid' using errcode = 'TAUTH';
  end if;
  if not app_private.tenant_module_enabled(v_tenant, 'commerce')
     or not exists (select 1 from app_public.tenants t where t.id = v_tenant and t.status = 'active') then
    raise exception 'The commerce module is switched off for this tenant' using errcode = 'TFORB';
  end if;
  if not exists (select 1 from app_public.bots b
                 where b.id = app_hidden.current_bot_id() and b.tenant_id = v_tenant and b.status = 'active') then
    raise exception 'The bot is not one of this key''s tenant' using errcode = 'TFORB';
  end if;
end;
$$;
comment on function app_hidden.confirm_bot_caller(uuid) is '@module commerce
The first statement of each bot request''s transaction: its API key (null: the service key) still valid (UNAUTHENTICATED), commerce on and the tenant active, its bot (the claims'') active (FORBIDDEN).';
revoke execute on function app_hidden.confirm_bot_caller(uuid) from public;
grant execute on function app_hidden.confirm_bot_caller(uuid) to :DATABASE_BOT;

create or replace function app_hidden.bot_create_order(telegram_id bigint, items jsonb)
 RETURNS app_public.orders
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  -- The products share-locked until the order commits, in id order (as the stock moves lock them):
  -- the checks, the total and the items below read the same price, stock and state, which a change
  -- committed meanwhile could otherwise split (a total of one price, an item of the other).
  perform 1 from app_public.products p where p.id = any (v_products) and p.tenant_id = v_tenant
    order by p.id for share;
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
  if (select sum(l.quantity * p.price)
      from unnest(v_products, v_quantities) l(product_id, quantity) join app_public.products p on p.id = l.product_id)
     > 9999999999999999.99 then
    raise exception 'The order''s total would be more than 9999999999999999.99' using errcode = 'TVALD',
      detail = '{"field":"items","reason":"TOTAL_TOO_LARGE"}';
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
$function$;
comment on function app_hidden.bot_create_order(bigint,jsonb) is '@module commerce
Places a pending order of the customer with this telegram id through the bot: items [{productId, quantity}] of products on sale (active, in a live category) in one currency, no more than the stock left (OUT_OF_STOCK); prices are captured now.';
