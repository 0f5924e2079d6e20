--! Previous: sha1:5fdaa03ac59d4a38cb50bb53e36ab427b1b41e39
--! Hash: sha1:8673be8f423644ad2a0818634b493692ecf0a83a
--! Message: Events: switching the module back on schedules the upcoming events' reminders again

--! split: 050-events.sql
-- A reminder that fell due while the events module was off sent nothing and was left unspent
-- (000085); switching the module back on now schedules the reminders of the tenant's upcoming
-- events again, so such a participant is reminded at once (the others' jobs are replaced as they
-- were, keyed per participant).
create or replace function app_private.tg_tenant_modules__events_on() returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_event uuid;
begin
  for v_event in
    select e.id from app_public.events e
    where e.tenant_id = new.tenant_id and e.rejected_at is null and e.starts_at > now()
  loop
    perform app_private.schedule_event_reminders(v_event);
  end loop;
  return null;
end;
$$;
comment on function app_private.tg_tenant_modules__events_on() is '@module events
The events module switched back on: the reminders of the tenant''s upcoming events are scheduled again (one that fell due while it was off is sent at once).';
revoke all on function app_private.tg_tenant_modules__events_on() from public;
drop trigger if exists _900_events_on on app_public.tenant_modules;
create trigger _900_events_on after update of enabled on app_public.tenant_modules
  for each row when (not old.enabled and new.enabled and new.module = 'events')
  execute function app_private.tg_tenant_modules__events_on();
