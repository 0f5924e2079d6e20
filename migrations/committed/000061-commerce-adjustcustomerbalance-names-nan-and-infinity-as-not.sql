--! Previous: sha1:f8da3dd988d537ed39ac2876cfb43cf7a6824b7c
--! Hash: sha1:a79a314d995a3c66bc24add393a5aa08cbefe0fe
--! Message: Commerce: adjustCustomerBalance names NaN and infinity as not an amount (they compare above every number and were called too large)

--! split: 070-commerce.sql
-- NaN and infinity (which compare above every number) were told they were too large.
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
  if adjust_customer_balance.amount in ('NaN', 'Infinity', '-Infinity') then
    raise exception 'An amount is a number of money, not NaN or infinity' using errcode = 'TVALD',
      detail = '{"field":"amount","reason":"NOT_AN_AMOUNT"}';
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
