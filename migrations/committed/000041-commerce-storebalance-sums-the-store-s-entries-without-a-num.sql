--! Previous: sha1:ad61cbec000493307cc31b78342bc56ca5753a65
--! Hash: sha1:5743407297311072ad0bd673310dd467d65e6489
--! Message: commerce: storeBalance sums the store's entries without a numeric(18,2) cast (past 10^16 the read failed for good)

--! split: 700-commerce.sql
-- commerce: storeBalance sums the store's entries without a numeric(18,2) cast. Each entry fits
-- numeric(18,2), their sum need not: past 10^16 the cast failed (VALIDATION_FAILED on a read), and
-- the append-only ledger could never be read again.
create or replace function app_public.store_balance(currency text DEFAULT NULL::text)
 RETURNS numeric
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
begin
  perform app_private.assert_module_access('commerce', 'orders.read');
  return (select coalesce(sum(t.amount), 0.00) from app_public.transactions t
          where t.tenant_id = app_public.current_tenant_id() and t.customer_id is null
            and t.currency = coalesce(store_balance.currency,
                                      app_private.store_currency(app_public.current_tenant_id())));
end;
$function$;
