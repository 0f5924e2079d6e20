--! Previous: sha1:f532a40649d1502b07c93e658f565913bcc8d5f9
--! Hash: sha1:0a3d07c3ed04ec74cc2df2f8012432f6b18f979e
--! Message: Platform: a named queue freed by its job is announced, so its next job starts at once instead of at the 2 s poll

--! split: 010-platform.sql
-- A named queue's next job is announced when the queue is freed. graphile-worker runs one job of a
-- named queue at a time and announces (NOTIFY jobs:insert) only new jobs: when a queue's job
-- finished, the queue's next job waited for the worker's next poll (2 s), so a tenant's bot pushes
-- or a bot's broadcast batches moved one every 2 s whatever the jobs cost. Freeing a queue (a job
-- done, failed or handed back; a dead worker's queues released) now announces like an insert, at
-- the commit, and an idle runner fetches at once. One notification per statement.
create or replace function app_private.tg_job_queues__announce_freed() returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_freed integer;
begin
  select count(*)::integer into v_freed
    from freed_old o join freed_new n on n.id = o.id
    where o.locked_by is not null and n.locked_by is null;
  if v_freed > 0 then
    perform pg_notify('jobs:insert', json_build_object('r', random(), 'count', v_freed)::text);
  end if;
  return null;
end;
$$;
comment on function app_private.tg_job_queues__announce_freed() is '@module platform
After an update of graphile-worker''s named queues: announces the queues freed by the statement on the channel of new jobs, so their next jobs start at once.';
revoke all on function app_private.tg_job_queues__announce_freed() from public;

drop trigger if exists _900_announce_freed on graphile_worker._private_job_queues;
create trigger _900_announce_freed
  after update on graphile_worker._private_job_queues
  referencing old table as freed_old new table as freed_new
  for each statement execute function app_private.tg_job_queues__announce_freed();
