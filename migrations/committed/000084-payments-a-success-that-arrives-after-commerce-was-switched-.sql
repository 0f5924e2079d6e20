--! Previous: sha1:904d8a66a232e05f063ffb28cb071263f1e424ba
--! Hash: sha1:d2925ec0e256268ddb48b2769470871ec7a982b4
--! Message: Payments: a success that arrives after commerce was switched off stays on the balance; no referral from a closed store

--! split: 090-payments.sql
-- A store that was closed while its customer paid sells nothing. Switching commerce off refuses the
-- bot API at once, but a provider's success for a payment started before still arrived and paid the
-- order: the stock stayed taken and the referrer was paid by a store that no longer trades. Such a
-- success now keeps the money on the customer's balance and gives the stock back (orderPaid false),
-- as it does for a product switched off meanwhile.
create or replace function app_private.order_still_sold(order_id uuid) returns boolean
  language sql
  stable
  set search_path = pg_catalog, public, pg_temp
as $$
  select app_private.tenant_module_enabled(o.tenant_id, 'commerce')
         and coalesce((select bool_and(p.active and app_private.category_is_live(p.category_id))
                         from app_public.order_items i join app_public.products p on p.id = i.product_id
                         where i.order_id = o.id), true)
    from app_public.orders o
    where o.id = order_still_sold.order_id;
$$;
comment on function app_private.order_still_sold(uuid) is '@module payments
Whether the store still sells everything in the order: commerce is on for its tenant, and every product is active, in a live category (or none), as placing an order requires.';
revoke all on function app_private.order_still_sold(uuid) from public;
