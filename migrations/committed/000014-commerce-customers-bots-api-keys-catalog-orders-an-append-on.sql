--! Previous: sha1:dc5907480fa99f3830108b997ceb333cdb2df1a0
--! Hash: sha1:6bd7960b549167fad27b7f4e2f2b446e1fb32d20
--! Message: Commerce: customers, bots, API keys, catalog, orders, an append-only ledger with balances that never go below zero, referral payouts, and the bot role's functions

--! split: 070-commerce.sql
--------------------------------------------------------------------------------------------------
-- 070-commerce: a store whose customers talk to Telegram bots, and whose bots talk to Tessera
-- over REST (/api/bot/*) with an API key. Admins manage it through GraphQL.
--
-- Money is numeric(18,2) in a currency (ISO 4217 code): amounts are rounded to cents on input, as
-- a money column would; NaN is refused by checks (numeric accepts it), infinities by the type.
-- (Checks call no function of ours: they run with the rights of whoever writes the row.)
-- The ledger (transactions) is append-only for every role; a customer's balance is the sum of
-- their entries, kept in customer_balances by a trigger on the ledger that refuses (in the same
-- statement, under the row lock) any entry that would take it below zero: INSUFFICIENT_BALANCE.
-- The store's own account is the entries without a customer (it may go below zero: adjustments
-- and payouts are the store's money).
--
-- Bot requests run as :DATABASE_BOT with the claims jwt.claims.bot_tenant_id and jwt.claims.bot_id,
-- set by the server after it verified the API key: they read through RLS (their tenant only) and
-- write only through the app_hidden.bot_* functions, which take the tenant and bot from the claims.
--
-- Lock order of a payment (no deadlock between payments): the order, its products by id, the
-- customer's balance, then the referrer's balance. A referrer is always an older customer
-- (referred_by is set once, when the customer is created, to a customer who existed), so two
-- payments never wait for each other's balance rows in a cycle.

drop policy if exists select_bot on app_public.images;
drop function if exists app_hidden.bot_pay_order(uuid);
drop function if exists app_hidden.bot_store_currency();
drop function if exists app_hidden.bot_create_order(bigint, jsonb);
drop function if exists app_hidden.bot_create_bot(bigint, text, text, numeric);
drop function if exists app_hidden.bot_upsert_customer(bigint, text, text, text, bigint);
drop function if exists app_private.authenticate_bot_request(bytea, text, uuid, integer, integer, timestamptz);
drop function if exists app_private.pay_order(uuid, uuid);
drop function if exists app_public.create_api_key(text);
drop function if exists app_public.create_bot(text, text, numeric);
drop function if exists app_public.revoke_api_key(uuid);
drop function if exists app_public.adjust_customer_balance(uuid, numeric, text, text);
drop function if exists app_public.store_balance(text);
drop function if exists app_public.customers_balance(app_public.customers, text);
drop type if exists app_public.new_api_key cascade;
drop table if exists app_public.customer_balances cascade;
drop table if exists app_public.transactions cascade;
drop table if exists app_public.order_items cascade;
drop table if exists app_public.orders cascade;
drop table if exists app_public.products cascade;
drop table if exists app_public.categories cascade;
drop table if exists app_private.api_key_secrets cascade;
drop table if exists app_public.api_keys cascade;
drop table if exists app_private.bot_tokens cascade;
drop table if exists app_public.bots cascade;
drop table if exists app_public.customers cascade;
drop function if exists app_private.tg_transactions__post();
drop function if exists app_private.check_money(numeric);
drop function if exists app_private.store_currency(uuid);
drop function if exists app_hidden.bot_tenant_id();
drop function if exists app_hidden.current_bot_id();

insert into app_public.modules (name, description)
  values ('commerce', 'Bot store: customers, bots, API keys, catalog, orders, ledger, referrals.')
  on conflict (name) do nothing;

insert into app_public.permissions (name, description) values
  ('catalog.manage', 'Manage the store''s categories and products.'),
  ('orders.read', 'See the store''s customers, bots, orders and ledger.'),
  ('ledger.manage', 'Post balance adjustments to customers'' ledgers.'),
  ('apikeys.manage', 'Create and revoke the store''s API keys for bots.'),
  ('bots.manage', 'Register the store''s bots and change their status and referral percent.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission) values
  ('owner', 'catalog.manage'), ('admin', 'catalog.manage'), ('manager', 'catalog.manage'),
  ('owner', 'orders.read'), ('admin', 'orders.read'), ('manager', 'orders.read'),
  ('owner', 'ledger.manage'), ('admin', 'ledger.manage'),
  ('owner', 'apikeys.manage'), ('admin', 'apikeys.manage'),
  ('owner', 'bots.manage'), ('admin', 'bots.manage')
  on conflict do nothing;

grant usage on schema app_hidden to :DATABASE_BOT;
grant usage on schema app_public to :DATABASE_BOT;

--------------------------------------------------------------------------------------------------
-- Claims of a bot request (set only by the server, after it verified the key and the bot).

create function app_hidden.bot_tenant_id() returns uuid
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.bot_tenant_id', true), '')::uuid;
$$;
comment on function app_hidden.bot_tenant_id() is E'@module commerce\nThe tenant of the bot request, or null.';

create function app_hidden.current_bot_id() returns uuid
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.bot_id', true), '')::uuid;
$$;
comment on function app_hidden.current_bot_id() is E'@module commerce\nThe bot of the bot request, or null.';

revoke execute on function app_hidden.bot_tenant_id(), app_hidden.current_bot_id() from public, :DATABASE_VISITOR;
grant execute on function app_hidden.bot_tenant_id(), app_hidden.current_bot_id() to :DATABASE_BOT;

-- The store's currency: the commerce row's settings.currency, USD by default.
create function app_private.store_currency(tenant_id uuid) returns text
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce((select tm.settings ->> 'currency' from app_public.tenant_modules tm
                   where tm.tenant_id = store_currency.tenant_id and tm.module = 'commerce'), 'USD');
$$;
comment on function app_private.store_currency(uuid) is
  E'@module commerce\nThe currency of the tenant''s store: settings.currency of its commerce module row, USD by default.';

--------------------------------------------------------------------------------------------------
-- Customers and bots.

create table app_public.customers (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  telegram_id bigint not null check (telegram_id > 0),
  username text check (length(username) between 1 and 64),
  first_name text check (length(first_name) between 1 and 256),
  language_code text check (language_code ~ '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})?$'),
  referred_by uuid check (referred_by <> id),
  created_at timestamptz not null default now(),
  unique (tenant_id, telegram_id)
);
create unique index customers_tenant_id_id_key on app_public.customers (tenant_id, id);
alter table app_public.customers add constraint customers_tenant_id_referred_by_fkey
  foreign key (tenant_id, referred_by) references app_public.customers (tenant_id, id);
create index customers_referred_by_idx on app_public.customers (tenant_id, referred_by);
comment on table app_public.customers is E'@module commerce\n@behavior -insert -update -delete\n'
  'A Telegram user of the store, known by their telegram id (one per tenant).';
comment on column app_public.customers.referred_by is 'The customer who invited this one; set once, when created.';
comment on constraint customers_tenant_id_referred_by_fkey on app_public.customers is E'@behavior -*';
alter table app_public.customers enable row level security;
create policy select_orders_read on app_public.customers for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy select_bot on app_public.customers for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.customers to :DATABASE_VISITOR, :DATABASE_BOT;

create table app_public.bots (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  owner_id uuid,
  name text not null check (length(name) between 1 and 100),
  telegram_username text check (telegram_username ~ '^[A-Za-z][A-Za-z0-9_]{3,31}$'),
  status text not null default 'active' check (status in ('active', 'disabled')),
  referral_percent numeric(5,2) not null default 0 check (referral_percent between 0 and 100),
  created_at timestamptz not null default now(),
  foreign key (tenant_id, owner_id) references app_public.customers (tenant_id, id)
);
create unique index bots_tenant_id_id_key on app_public.bots (tenant_id, id);
create index bots_owner_idx on app_public.bots (tenant_id, owner_id);
create unique index bots_telegram_username_key on app_public.bots (tenant_id, lower(telegram_username));
comment on table app_public.bots is E'@module commerce\n@behavior -insert -delete\n'
  'A Telegram bot of the store: the store''s own (no owner, made by an admin) or a customer''s (made through '
  'the bot API); referral_percent of every order paid through it goes to the buyer''s referrer.';
comment on constraint bots_tenant_id_owner_id_fkey on app_public.bots is E'@behavior -*';
alter table app_public.bots enable row level security;
create policy select_orders_read on app_public.bots for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy update_bots_manage on app_public.bots for update to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('bots.manage')));
create policy select_bot on app_public.bots for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.bots to :DATABASE_VISITOR, :DATABASE_BOT;
grant update (name, status, referral_percent) on app_public.bots to :DATABASE_VISITOR;

create function app_public.create_bot(name text, telegram_username text default null,
                                      referral_percent numeric default 0) returns app_public.bots
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_bot app_public.bots;
begin
  perform app_private.assert_module_access('commerce', 'bots.manage');
  insert into app_public.bots (tenant_id, name, telegram_username, referral_percent)
    values (app_public.current_tenant_id(), create_bot.name, create_bot.telegram_username,
            coalesce(create_bot.referral_percent, 0))
    returning * into v_bot;
  return v_bot;
end;
$$;
comment on function app_public.create_bot(text, text, numeric) is E'@module commerce\n@resultFieldName bot\n'
  'Registers a bot of the store itself (needs bots.manage); customers'' own bots are made through the bot API.';

-- The bot's Telegram token, sealed by the server (AES-256-GCM); never readable by a request role.
create table app_private.bot_tokens (
  bot_id uuid primary key references app_public.bots on delete cascade,
  sealed_token text not null,
  updated_at timestamptz not null default now()
);
comment on table app_private.bot_tokens is E'@module commerce\nEach bot''s Telegram token, encrypted by the server.';

--------------------------------------------------------------------------------------------------
-- API keys: the secret is shown once; only its SHA-256 is kept (in app_private).

create table app_public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  name text not null check (length(name) between 1 and 100),
  prefix text not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  foreign key (tenant_id, created_by) references app_public.users (tenant_id, id) on delete set null (created_by)
);
create unique index api_keys_tenant_id_id_key on app_public.api_keys (tenant_id, id);
create index api_keys_created_by_idx on app_public.api_keys (tenant_id, created_by);
comment on table app_public.api_keys is E'@module commerce\n@behavior -insert -update -delete\n'
  'A key bots present in X-API-KEY. `prefix` is the secret''s first characters, to tell keys apart.';
comment on constraint api_keys_tenant_id_created_by_fkey on app_public.api_keys is E'@behavior -*';
alter table app_public.api_keys enable row level security;
create policy select_apikeys_manage on app_public.api_keys for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id())
  and (select app_public.current_user_has_permission('apikeys.manage')));
grant select on app_public.api_keys to :DATABASE_VISITOR;

create table app_private.api_key_secrets (
  api_key_id uuid primary key references app_public.api_keys on delete cascade,
  secret_hash bytea not null unique
);
comment on table app_private.api_key_secrets is E'@module commerce\nSHA-256 of each API key''s secret.';

create type app_public.new_api_key as (api_key app_public.api_keys, secret text);
comment on type app_public.new_api_key is 'A key just created, with its secret: shown this once, stored only hashed.';

create function app_public.create_api_key(name text) returns app_public.new_api_key
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_secret text := 'tsk_' || translate(encode(gen_random_bytes(32), 'base64'), '+/=', '-_');
  v_key app_public.api_keys;
begin
  perform app_private.assert_module_access('commerce', 'apikeys.manage');
  insert into app_public.api_keys (tenant_id, name, prefix, created_by)
    values (app_public.current_tenant_id(), create_api_key.name, left(v_secret, 10), app_public.current_user_id())
    returning * into v_key;
  insert into app_private.api_key_secrets (api_key_id, secret_hash)
    values (v_key.id, sha256(convert_to(v_secret, 'UTF8')));
  return (v_key, v_secret)::app_public.new_api_key;
end;
$$;
comment on function app_public.create_api_key(text) is E'@module commerce\n@resultFieldName created\n'
  'Creates an API key for bots (needs apikeys.manage); its secret is in the answer, and never again.';

create function app_public.revoke_api_key(id uuid) returns app_public.api_keys
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_key app_public.api_keys;
begin
  perform app_private.assert_module_access('commerce', 'apikeys.manage');
  update app_public.api_keys k set revoked_at = coalesce(k.revoked_at, now())
    where k.id = revoke_api_key.id and k.tenant_id = app_public.current_tenant_id()
    returning * into v_key;
  if v_key.id is null then
    raise exception 'No such API key' using errcode = 'TNFND';
  end if;
  return v_key;
end;
$$;
comment on function app_public.revoke_api_key(uuid) is E'@module commerce\n@resultFieldName apiKey\n'
  'Revokes an API key (needs apikeys.manage): requests with it are refused from now on.';

--------------------------------------------------------------------------------------------------
-- Catalog.

create table app_public.categories (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_public.current_tenant_id() references app_public.tenants on delete cascade,
  parent_id uuid check (parent_id <> id),
  name text not null check (length(name) between 1 and 200),
  position integer not null default 0 check (position between -1000000 and 1000000),
  active boolean not null default true,
  created_at timestamptz not null default now()
);
create unique index categories_tenant_id_id_key on app_public.categories (tenant_id, id);
alter table app_public.categories add constraint categories_tenant_id_parent_id_fkey
  foreign key (tenant_id, parent_id) references app_public.categories (tenant_id, id);
create index categories_parent_idx on app_public.categories (tenant_id, parent_id, position);
comment on table app_public.categories is E'@module commerce\n@behavior -delete\n'
  'A node of the store''s category tree (deactivate instead of deleting: orders keep their products).';
comment on constraint categories_tenant_id_parent_id_fkey on app_public.categories is E'@behavior -*';

create table app_public.products (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null default app_public.current_tenant_id() references app_public.tenants on delete cascade,
  category_id uuid,
  name text not null check (length(name) between 1 and 200),
  description text check (length(description) <= 4000),
  price numeric(18,2) not null check (price >= 0 and price <> 'NaN'),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  stock integer check (stock >= 0),
  kind text not null default 'goods' check (kind in ('goods', 'subscription')),
  image_sha256 text,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, category_id) references app_public.categories (tenant_id, id),
  foreign key (tenant_id, image_sha256) references app_public.images (tenant_id, sha256)
);
create unique index products_tenant_id_id_key on app_public.products (tenant_id, id);
create index products_category_idx on app_public.products (tenant_id, category_id);
create index products_image_idx on app_public.products (tenant_id, image_sha256);
create index products_listing_idx on app_public.products (tenant_id, created_at, id);
comment on table app_public.products is E'@module commerce\n@behavior -delete\n'
  'A product of the store. stock null: unlimited. image_sha256: an image the tenant uploaded.';
comment on column app_public.products.stock is 'Units left; null means unlimited. Paying an order takes from it.';
comment on constraint products_tenant_id_category_id_fkey on app_public.products is E'@behavior -*';
comment on constraint products_tenant_id_image_sha256_fkey on app_public.products is E'@behavior -*';

alter table app_public.categories enable row level security;
alter table app_public.products enable row level security;
create policy select_member on app_public.categories for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce')));
create policy insert_catalog_manage on app_public.categories for insert to :DATABASE_VISITOR with check (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('catalog.manage')));
create policy update_catalog_manage on app_public.categories for update to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('catalog.manage')));
create policy select_bot on app_public.categories for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()) and active);
create policy select_member on app_public.products for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce')));
create policy insert_catalog_manage on app_public.products for insert to :DATABASE_VISITOR with check (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('catalog.manage')));
create policy update_catalog_manage on app_public.products for update to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('catalog.manage')));
create policy select_bot on app_public.products for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.categories, app_public.products to :DATABASE_VISITOR, :DATABASE_BOT;
-- Product pictures: a bot sees its tenant's images (to link /api/images/<id>).
drop policy if exists select_bot on app_public.images;
create policy select_bot on app_public.images for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.images to :DATABASE_BOT;
-- The images' member policy (for every role) calls these: for a bot they answer null and false.
grant execute on function app_public.current_tenant_id(), app_public.tenant_module_enabled(text) to :DATABASE_BOT;
grant insert (parent_id, name, position, active), update (parent_id, name, position, active)
  on app_public.categories to :DATABASE_VISITOR;
grant insert (category_id, name, description, price, currency, stock, kind, image_sha256, active),
  update (category_id, name, description, price, currency, stock, kind, image_sha256, active)
  on app_public.products to :DATABASE_VISITOR;

--------------------------------------------------------------------------------------------------
-- Orders.

create table app_public.orders (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  bot_id uuid not null,
  customer_id uuid not null,
  status text not null default 'pending'
    check (status in ('pending', 'paid', 'fulfilled', 'cancelled', 'refunded')),
  total numeric(18,2) not null check (total >= 0 and total <> 'NaN'),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  paid_at timestamptz,
  foreign key (tenant_id, bot_id) references app_public.bots (tenant_id, id),
  foreign key (tenant_id, customer_id) references app_public.customers (tenant_id, id)
);
create unique index orders_tenant_id_id_key on app_public.orders (tenant_id, id);
create index orders_bot_idx on app_public.orders (tenant_id, bot_id);
create index orders_customer_idx on app_public.orders (tenant_id, customer_id, created_at desc, id desc);
comment on table app_public.orders is E'@module commerce\n@behavior -insert -update -delete\n'
  'An order of a customer, placed through a bot. total = sum of its items, computed when it is created.';
comment on constraint orders_tenant_id_bot_id_fkey on app_public.orders is E'@behavior -*';
comment on constraint orders_tenant_id_customer_id_fkey on app_public.orders is E'@behavior -*';

create table app_public.order_items (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  order_id uuid not null,
  product_id uuid not null,
  quantity integer not null constraint order_items_quantity_positive check (quantity > 0),
  unit_price numeric(18,2) not null check (unit_price >= 0 and unit_price <> 'NaN'),
  unique (order_id, product_id),
  foreign key (tenant_id, order_id) references app_public.orders (tenant_id, id) on delete cascade,
  foreign key (tenant_id, product_id) references app_public.products (tenant_id, id)
);
create index order_items_order_idx on app_public.order_items (tenant_id, order_id);
create index order_items_product_idx on app_public.order_items (tenant_id, product_id);
comment on table app_public.order_items is E'@module commerce\n@behavior -insert -update -delete\n'
  'A line of an order: the product, how many, and its price when the order was placed.';
comment on constraint order_items_tenant_id_order_id_fkey on app_public.order_items is E'@behavior -*';
comment on constraint order_items_tenant_id_product_id_fkey on app_public.order_items is E'@behavior -*';

alter table app_public.orders enable row level security;
alter table app_public.order_items enable row level security;
create policy select_orders_read on app_public.orders for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy select_bot on app_public.orders for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
create policy select_orders_read on app_public.order_items for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy select_bot on app_public.order_items for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.orders, app_public.order_items to :DATABASE_VISITOR, :DATABASE_BOT;

--------------------------------------------------------------------------------------------------
-- The ledger and balances.

create table app_public.transactions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  customer_id uuid,
  type text not null check (type in ('deposit', 'purchase', 'refund', 'referral_payout', 'adjustment')),
  amount numeric(18,2) not null check (amount <> 0 and amount <> 'NaN'),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  bot_id uuid,
  order_id uuid,
  payment_id uuid,
  reason text check (length(reason) between 1 and 500),
  created_by uuid,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, customer_id) references app_public.customers (tenant_id, id),
  foreign key (tenant_id, bot_id) references app_public.bots (tenant_id, id),
  foreign key (tenant_id, order_id) references app_public.orders (tenant_id, id),
  foreign key (tenant_id, created_by) references app_public.users (tenant_id, id)
);
create index transactions_customer_idx on app_public.transactions (tenant_id, customer_id, created_at desc);
create index transactions_bot_idx on app_public.transactions (tenant_id, bot_id);
create index transactions_order_idx on app_public.transactions (tenant_id, order_id);
create index transactions_created_by_idx on app_public.transactions (tenant_id, created_by);
comment on table app_public.transactions is E'@module commerce\n@behavior -insert -update -delete\n'
  'The ledger, append-only: one signed entry per movement of money. customer_id null: the store''s own account.';
comment on constraint transactions_tenant_id_customer_id_fkey on app_public.transactions is E'@behavior -*';
comment on constraint transactions_tenant_id_bot_id_fkey on app_public.transactions is E'@behavior -*';
comment on constraint transactions_tenant_id_order_id_fkey on app_public.transactions is E'@behavior -*';
comment on constraint transactions_tenant_id_created_by_fkey on app_public.transactions is E'@behavior -*';
create trigger _100_append_only before update or delete on app_public.transactions
  for each statement execute function app_private.tg__refuse_change();
create trigger _100_append_only_truncate before truncate on app_public.transactions
  for each statement execute function app_private.tg__refuse_change();

create table app_public.customer_balances (
  tenant_id uuid not null references app_public.tenants on delete cascade,
  customer_id uuid not null,
  currency text not null,
  balance numeric(18,2) not null default 0,
  updated_at timestamptz not null default now(),
  primary key (customer_id, currency),
  foreign key (tenant_id, customer_id) references app_public.customers (tenant_id, id)
);
create index customer_balances_tenant_idx on app_public.customer_balances (tenant_id, customer_id);
comment on table app_public.customer_balances is E'@module commerce\n@behavior -insert -update -delete\n'
  'Each customer''s balance per currency: the sum of their ledger entries, kept by the ledger''s trigger.';
comment on constraint customer_balances_tenant_id_customer_id_fkey on app_public.customer_balances is E'@behavior -*';

create function app_private.tg_transactions__post() returns trigger
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_balance numeric;
begin
  if new.customer_id is null then
    return null;
  end if;
  insert into app_public.customer_balances as b (tenant_id, customer_id, currency, balance)
    values (new.tenant_id, new.customer_id, new.currency, new.amount)
    on conflict (customer_id, currency) do update set balance = b.balance + excluded.balance, updated_at = now()
    returning b.balance into v_balance;
  if v_balance < 0 then
    raise exception 'The balance is %, short of % %', v_balance - new.amount, -new.amount, new.currency
      using errcode = 'TBALN';
  end if;
  return null;
end;
$$;
comment on function app_private.tg_transactions__post() is E'@module commerce\n'
  'After a ledger entry: adds it to the customer''s balance under the row lock; below zero raises INSUFFICIENT_BALANCE.';
create trigger _200_post after insert on app_public.transactions
  for each row execute function app_private.tg_transactions__post();

alter table app_public.transactions enable row level security;
alter table app_public.customer_balances enable row level security;
create policy select_orders_read on app_public.transactions for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy select_bot on app_public.transactions for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
create policy select_orders_read on app_public.customer_balances for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('commerce'))
  and (select app_public.current_user_has_permission('orders.read')));
create policy select_bot on app_public.customer_balances for select to :DATABASE_BOT
  using (tenant_id = (select app_hidden.bot_tenant_id()));
grant select on app_public.transactions, app_public.customer_balances to :DATABASE_VISITOR, :DATABASE_BOT;

create function app_public.adjust_customer_balance(
  customer_id uuid, amount numeric, reason text, currency text default null
) returns app_public.transactions
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_entry app_public.transactions;
  v_tenant uuid := app_public.current_tenant_id();
begin
  perform app_private.assert_module_access('commerce', 'ledger.manage');
  if not exists (select 1 from app_public.customers c
                 where c.id = adjust_customer_balance.customer_id and c.tenant_id = v_tenant) then
    raise exception 'No such customer' using errcode = 'TNFND';
  end if;
  insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason, created_by)
    values (v_tenant, adjust_customer_balance.customer_id, 'adjustment', adjust_customer_balance.amount,
            coalesce(adjust_customer_balance.currency, app_private.store_currency(v_tenant)),
            adjust_customer_balance.reason, app_public.current_user_id())
    returning * into v_entry;
  return v_entry;
end;
$$;
comment on function app_public.adjust_customer_balance(uuid, numeric, text, text) is
  E'@module commerce\n@resultFieldName transaction\n'
  'Posts an adjustment to a customer''s ledger (needs ledger.manage): positive funds, negative takes back; '
  'never below zero (INSUFFICIENT_BALANCE). currency: the store''s when omitted.';

create function app_public.store_balance(currency text default null) returns numeric
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce(sum(t.amount), 0)::numeric(18,2) from app_public.transactions t
  where t.tenant_id = app_public.current_tenant_id() and t.customer_id is null
    and t.currency = coalesce(store_balance.currency, app_private.store_currency(app_public.current_tenant_id()))
    and app_public.current_user_has_permission('orders.read');
$$;
comment on function app_public.store_balance(text) is
  E'@module commerce\nThe store''s own account: the sum of its ledger entries in the currency (the store''s by default).';

--------------------------------------------------------------------------------------------------
-- Paying an order from the customer's balance, shared by every way of paying that ends in it.

create function app_private.pay_order(tenant_id uuid, order_id uuid) returns app_public.orders
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
    select c.referred_by, b.referral_percent into v_referrer, v_percent
      from app_public.customers c, app_public.bots b
      where c.id = v_order.customer_id and b.id = v_order.bot_id;
    v_payout := round(v_order.total * coalesce(v_percent, 0) / 100, 2);
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
  'Pays a pending order from its customer''s balance in one go: stock (OUT_OF_STOCK), the purchase '
  '(INSUFFICIENT_BALANCE), the referrer''s payout, the status. Any refusal leaves everything as it was.';

--------------------------------------------------------------------------------------------------
-- API key verification, for the server's bot authentication (runs as the owner, before any claim).
-- One round trip: the key (live, of a tenant whose commerce module is on; or the static service key,
-- which the server compared itself and passes as its tenant's slug), the bot (of that
-- tenant: else FORBIDDEN), the key's rate limit (RATE_LIMITED), and last_used_at (at most once a
-- minute, so a busy key does not rewrite its row on every request).

create function app_private.authenticate_bot_request(
  secret_hash bytea, service_tenant text, bot_id uuid, max_hits integer, window_seconds integer,
  at_time timestamptz,
  out tenant_id uuid, out api_key_id uuid, out retry_after integer
) returns record
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_hits integer;
begin
  if authenticate_bot_request.service_tenant is not null then
    select t.id into tenant_id from app_public.tenants t where t.slug = authenticate_bot_request.service_tenant;
  else
    select k.tenant_id, k.id into tenant_id, api_key_id
      from app_private.api_key_secrets s join app_public.api_keys k on k.id = s.api_key_id
      where s.secret_hash = authenticate_bot_request.secret_hash and k.revoked_at is null;
  end if;
  if tenant_id is null then
    raise exception 'The API key is not valid' using errcode = 'TAUTH';
  end if;
  if not app_private.tenant_module_enabled(tenant_id, 'commerce')
     or not exists (select 1 from app_public.tenants t
                    where t.id = authenticate_bot_request.tenant_id and t.status = 'active') then
    raise exception 'The commerce module is switched off for this tenant' using errcode = 'TFORB';
  end if;
  select r.hits, r.retry_after into v_hits, retry_after
    from app_private.take_rate_limit('bot-key:' || coalesce(api_key_id::text, 'service'), max_hits, window_seconds,
                                     at_time) r;
  if v_hits is null then
    return;
  end if;
  retry_after := null;
  if not exists (select 1 from app_public.bots b
                 where b.id = authenticate_bot_request.bot_id and b.tenant_id = authenticate_bot_request.tenant_id
                   and b.status = 'active') then
    raise exception 'The bot is not one of this key''s tenant' using errcode = 'TFORB';
  end if;
  update app_public.api_keys k set last_used_at = now()
    where k.id = authenticate_bot_request.api_key_id and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
end;
$$;
comment on function app_private.authenticate_bot_request(bytea, text, uuid, integer, integer, timestamptz) is E'@module commerce\n'
  'Verifies a bot request''s API key (UNAUTHENTICATED) and bot (FORBIDDEN), takes one unit of the key''s rate '
  'limit (retry_after set when the window is full; at_time null: now) and notes when the key was last used.';

--------------------------------------------------------------------------------------------------
-- What bots do, as :DATABASE_BOT. Definer functions: the tenant and bot come from the claims.

create function app_hidden.bot_upsert_customer(
  telegram_id bigint, username text, first_name text, language_code text, referrer_telegram_id bigint,
  out customer_id uuid, out created boolean
) returns record
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_hidden.bot_tenant_id();
  v_referrer uuid;
begin
  if v_tenant is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  -- An unknown referrer (or oneself) is ignored: invitation links are typed by people.
  select c.id into v_referrer from app_public.customers c
    where c.tenant_id = v_tenant and c.telegram_id = bot_upsert_customer.referrer_telegram_id
      and c.telegram_id <> bot_upsert_customer.telegram_id;
  insert into app_public.customers as c (tenant_id, telegram_id, username, first_name, language_code, referred_by)
    values (v_tenant, bot_upsert_customer.telegram_id, bot_upsert_customer.username, bot_upsert_customer.first_name,
            bot_upsert_customer.language_code, v_referrer)
    on conflict on constraint customers_tenant_id_telegram_id_key do update
      set username = coalesce(excluded.username, c.username),
          first_name = coalesce(excluded.first_name, c.first_name),
          language_code = coalesce(excluded.language_code, c.language_code)
    returning c.id, (c.xmax = 0) into customer_id, created;
end;
$$;
comment on function app_hidden.bot_upsert_customer(bigint, text, text, text, bigint) is E'@module commerce\n'
  'Creates the customer of the bot''s tenant with this telegram id, or updates the names they gave; the '
  'referrer is set only when the customer is created (an unknown referrer is ignored).';

create function app_hidden.bot_create_bot(
  owner_telegram_id bigint, name text, telegram_username text, referral_percent numeric
) returns app_public.bots
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_tenant uuid := app_hidden.bot_tenant_id();
  v_owner uuid;
  v_bot app_public.bots;
begin
  if v_tenant is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  select c.id into v_owner from app_public.customers c
    where c.tenant_id = v_tenant and c.telegram_id = bot_create_bot.owner_telegram_id;
  if v_owner is null then
    raise exception 'No customer has this telegram id' using errcode = 'TNFND';
  end if;
  insert into app_public.bots (tenant_id, owner_id, name, telegram_username, referral_percent)
    values (v_tenant, v_owner, bot_create_bot.name, bot_create_bot.telegram_username,
            coalesce(bot_create_bot.referral_percent, 0))
    returning * into v_bot;
  return v_bot;
end;
$$;
comment on function app_hidden.bot_create_bot(bigint, text, text, numeric) is
  E'@module commerce\nCreates a bot of the bot''s tenant, owned by the customer with this telegram id.';

create function app_hidden.bot_create_order(telegram_id bigint, items jsonb) returns app_public.orders
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
                               where p.id = l.product_id and p.tenant_id = v_tenant and p.active)) then
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
  'of active products in one currency, no more than the stock left (OUT_OF_STOCK); prices are captured now.';

create function app_hidden.bot_pay_order(order_id uuid) returns app_public.orders
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if app_hidden.bot_tenant_id() is null then
    raise exception 'Bot requests only' using errcode = 'TAUTH';
  end if;
  return app_private.pay_order(app_hidden.bot_tenant_id(), bot_pay_order.order_id);
end;
$$;
comment on function app_hidden.bot_pay_order(uuid) is
  E'@module commerce\nPays an order of the bot''s tenant from its customer''s balance.';

revoke execute on function
  app_hidden.bot_upsert_customer(bigint, text, text, text, bigint),
  app_hidden.bot_create_bot(bigint, text, text, numeric),
  app_hidden.bot_create_order(bigint, jsonb),
  app_hidden.bot_pay_order(uuid)
  from public, :DATABASE_VISITOR;
grant execute on function
  app_hidden.bot_upsert_customer(bigint, text, text, text, bigint),
  app_hidden.bot_create_bot(bigint, text, text, numeric),
  app_hidden.bot_create_order(bigint, jsonb),
  app_hidden.bot_pay_order(uuid)
  to :DATABASE_BOT;

create function app_hidden.bot_store_currency() returns text
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.store_currency(app_hidden.bot_tenant_id());
$$;
comment on function app_hidden.bot_store_currency() is E'@module commerce\nThe currency of the bot''s store.';
revoke execute on function app_hidden.bot_store_currency() from public, :DATABASE_VISITOR;
grant execute on function app_hidden.bot_store_currency() to :DATABASE_BOT;
