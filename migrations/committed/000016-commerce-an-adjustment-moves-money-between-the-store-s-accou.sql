--! Previous: sha1:cc9fd7b4b30a1896f60f85529edab4232f9d2d19
--! Hash: sha1:58950d0493ff6ffa8df20d371ee665575a1c24a9
--! Message: Commerce: an adjustment moves money between the store's account and the customer's (two entries)

--! split: 070-commerce.sql
--------------------------------------------------------------------------------------------------
-- 070-commerce: an adjustment is a transfer between the store and the customer. Funding a customer
-- takes the amount from the store's account (taking money back returns it), so the store's balance
-- is what it really holds: purchases − payouts − what it has credited.

create or replace function app_public.adjust_customer_balance(
  customer_id uuid, amount numeric, reason text, currency text default null
) returns app_public.transactions
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
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
$$;
comment on function app_public.adjust_customer_balance(uuid, numeric, text, text) is
  E'@module commerce\n@resultFieldName transaction\n'
  'Moves money between the store''s account and a customer''s (needs ledger.manage): positive funds the '
  'customer from the store, negative takes it back; a customer never goes below zero (INSUFFICIENT_BALANCE). '
  'currency: the store''s when omitted. Answers the customer''s entry.';
