--! Previous: sha1:4ff33612aeaf919fd6f0a121493e03a3502119c8
--! Hash: sha1:f8da3dd988d537ed39ac2876cfb43cf7a6824b7c
--! Message: Commerce and broadcasts: money past numeric(18,2), a long caption and a bad audience are refused naming their field

--! split: 070-commerce.sql
-- A balance past numeric(18,2) (adjustCustomerBalance of 0.01 on a full one) answered a bare "The
-- input is not valid."; it names the amount now.
create or replace function app_private.tg_transactions__post()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_balance numeric;
begin
  if new.customer_id is null then
    return null;
  end if;
  begin
    insert into app_public.customer_balances as b (tenant_id, customer_id, currency, balance)
      values (new.tenant_id, new.customer_id, new.currency, new.amount)
      on conflict (customer_id, currency) do update set balance = b.balance + excluded.balance, updated_at = now()
      returning b.balance into v_balance;
  exception when numeric_value_out_of_range then
    raise exception 'The customer''s balance cannot hold this amount (at most 9999999999999999.99 %)', new.currency
      using errcode = 'TVALD', detail = '{"field":"amount","reason":"BALANCE_TOO_LARGE"}';
  end;
  if v_balance < 0 then
    raise exception 'The balance is %, short of % %', v_balance - new.amount, -new.amount, new.currency
      using errcode = 'TBALN';
  end if;
  return null;
end;
$function$;
comment on function app_private.tg_transactions__post() is '@module commerce
After a ledger entry: adds it to the customer''s balance under the row lock; below zero raises INSUFFICIENT_BALANCE; past numeric(18,2), VALIDATION_FAILED (field amount, BALANCE_TOO_LARGE).';

-- An amount past numeric(18,2) itself is refused naming it.
create or replace function app_public.adjust_customer_balance(customer_id uuid, amount numeric, reason text, currency text DEFAULT NULL::text)
 RETURNS app_public.transactions
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_entry app_public.transactions;
  v_tenant uuid := app_public.current_tenant_id();
  v_currency text;
begin
  perform app_private.assert_module_access('commerce', 'ledger.manage');
  if not exists (select 1 from app_public.customers c
                 where c.id = adjust_customer_balance.customer_id and c.tenant_id = v_tenant) then
    raise exception 'No such customer' using errcode = 'TNFND';
  end if;
  if abs(adjust_customer_balance.amount) > 9999999999999999.99 then
    raise exception 'An amount is at most 9999999999999999.99' using errcode = 'TVALD',
      detail = '{"field":"amount","reason":"AMOUNT_TOO_LARGE"}';
  end if;
  v_currency := coalesce(adjust_customer_balance.currency, app_private.store_currency(v_tenant));
  insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason, created_by)
    values (v_tenant, adjust_customer_balance.customer_id, 'adjustment', adjust_customer_balance.amount, v_currency,
            adjust_customer_balance.reason, app_public.current_user_id())
    returning * into v_entry;
  insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason, created_by)
    values (v_tenant, null, 'adjustment', -adjust_customer_balance.amount, v_currency,
            adjust_customer_balance.reason, app_public.current_user_id());
  return v_entry;
end;
$function$;
comment on function app_public.adjust_customer_balance(uuid,numeric,text,text) is '@module commerce
@resultFieldName transaction
Moves money between the store''s account and a customer''s (needs ledger.manage): positive funds the customer from the store, negative takes it back; a customer never goes below zero (INSUFFICIENT_BALANCE). currency: the store''s when omitted. Answers the customer''s entry.';

-- An order whose total would not fit numeric(18,2) is refused naming its items.
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

--! split: 090-broadcasts.sql
-- A caption too long or an audience of another shape answered "The input is not valid." with only the
-- constraint's name; the trigger names the field and what it takes.
create or replace function app_private.broadcast_audience_valid(audience jsonb)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
  select audience is not null and jsonb_typeof(audience) = 'object'
    and audience - 'language' - 'hasPaidOrder' = '{}'::jsonb
    and (not audience ? 'language'
         or (jsonb_typeof(audience -> 'language') = 'string' and audience ->> 'language' ~ '^[a-z]{2,3}$'))
    and (not audience ? 'hasPaidOrder' or jsonb_typeof(audience -> 'hasPaidOrder') = 'boolean');
$function$;
comment on function app_private.broadcast_audience_valid(jsonb) is E'@module broadcasts\n'
  'Whether a broadcast''s audience is {} or an object of "language" (2 or 3 lower-case letters) and/or '
  '"hasPaidOrder" (a boolean), as the table''s broadcasts_audience_valid check holds.';

create or replace function app_private.tg_broadcasts__check()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  if app_public.current_user_id() is not null then
    perform app_private.assert_module_access('broadcasts', 'broadcasts.manage');
    -- The bots and customers a broadcast goes to are the store's: with commerce off, there is none.
    perform app_private.assert_module_access('commerce', 'broadcasts.manage');
  elsif new.tenant_id is null then
    -- A request without a user (the worker and the owner's scripts always name the tenant).
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  -- What a request may not choose: the counts and the status start at their beginning.
  new.status := 'pending';
  new.total_count := 0; new.pending_count := 0; new.sent_count := 0; new.failed_count := 0; new.blocked_count := 0;
  new.started_at := null; new.completed_at := null; new.cancelled_at := null; new.cancelled_reason := null; new.notified_at := null;
  new.created_at := now(); new.updated_at := now();
  if app_public.current_user_id() is not null and new.tenant_id is distinct from app_public.current_tenant_id() then
    return new; -- another tenant's row: the policy refuses it, telling nothing of that tenant's bots
  end if;
  if not exists (select 1 from app_public.bots b
                 where b.tenant_id = new.tenant_id and b.id = new.bot_id and b.status = 'active') then
    raise exception 'The bot must be an active bot of the store'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'BOT_NOT_ACTIVE')::text;
  end if;
  if not exists (select 1 from app_private.bot_tokens t where t.bot_id = new.bot_id) then
    raise exception 'The bot has no Telegram token yet (setBotToken)'
      using errcode = 'TVALD', detail = json_build_object('field', 'botId', 'reason', 'NO_BOT_TOKEN')::text;
  end if;
  -- The table's checks hold these too; here they name the field and say what is wrong.
  if new.image_sha256 is not null and length(new.text) > 1024 then
    raise exception 'With an image, the text is its caption: at most 1024 characters'
      using errcode = 'TVALD', detail = '{"field":"text","reason":"CAPTION_TOO_LONG"}';
  end if;
  if not app_private.broadcast_audience_valid(new.audience) then
    raise exception 'The audience is an object of at most "language" (2 or 3 lower-case letters) and '
      '"hasPaidOrder" (true or false); {} is everyone'
      using errcode = 'TVALD', detail = '{"field":"audience"}';
  end if;
  perform app_private.assert_image_usable(new.tenant_id, new.image_sha256);
  return new;
end;
$function$;
comment on function app_private.tg_broadcasts__check() is '@module broadcasts
Before a broadcast is created: the caller signed in with broadcasts.manage, and commerce switched on for the tenant (UNAUTHENTICATED, FORBIDDEN) before anything of the bot is checked; status pending, counts zero; its bot active and with a token, and an image the tenant uploaded while media is on (VALIDATION_FAILED).';
