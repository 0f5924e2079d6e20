-- Payments: the order foreign key gets its supporting index (the pending-order index covers only
-- pending payments).
create index if not exists payments_order_idx on app_public.payments (tenant_id, order_id);
