--! Previous: sha1:1445b1f0e1212541ed2ff83924383eb9bfcc656e
--! Hash: sha1:a3c8f5e453cc3cbe154fd415a5d4e2eeedbd088a
--! Message: Tenancy: the module-change NOTIFY is sent by a statement-level trigger per event (a NOTIFY per row, same channel and payload) instead of a plpgsql call per row

--! split: 1-current.sql
-- Tenancy: the module-change NOTIFY is sent by one statement-level call per statement (a NOTIFY per
-- row, as before: same channel, same payload) instead of a plpgsql call per row. Creating a batch
-- of tenants writes seven rows each; the per-row calls were a quarter of that insert's time.
create or replace function app_private.tg_tenant_modules__notify_rows() returns trigger
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  -- The topic carries the tenant, and subscribers may only listen to their own tenant's topic.
  perform pg_notify(
    'tenant:' || changed.tenant_id::text || ':modules',
    json_build_object('event', lower(tg_op), 'module', changed.module, 'enabled', changed.enabled)::text
  )
  from changed_rows changed;
  return null;
end;
$$;
comment on function app_private.tg_tenant_modules__notify_rows() is
  E'@module tenancy\nTells live subscribers of each tenant whose modules a statement inserted or changed: a NOTIFY per row.';

drop trigger if exists _500_notify on app_public.tenant_modules;
drop function if exists app_private.tg_tenant_modules__notify();
-- A trigger with transition tables takes one event: one trigger each for insert and update.
drop trigger if exists _500_notify_inserted on app_public.tenant_modules;
create trigger _500_notify_inserted after insert on app_public.tenant_modules
  referencing new table as changed_rows
  for each statement execute function app_private.tg_tenant_modules__notify_rows();
drop trigger if exists _500_notify_updated on app_public.tenant_modules;
create trigger _500_notify_updated after update on app_public.tenant_modules
  referencing new table as changed_rows
  for each statement execute function app_private.tg_tenant_modules__notify_rows();
