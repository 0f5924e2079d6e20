--! Previous: sha1:2655f9fc6400e4a36ca4aaff106044140294e988
--! Hash: sha1:a076c1533d527823f0686b78f0f0f60ce72e0650
--! Message: operations: retryJob and discardJob act on failed jobs only; discardJob answers true only for a job it deleted

--! split: 080-operations.sql
-- retryJob and discardJob act on failed jobs only (a last error recorded), as failedJobs lists
-- them: a tenant admin could fire a member's event reminder days early, or delete it, and an
-- outbox job too. discardJob answers true only for a job it deleted: of parallel discards of one
-- job, or one a worker took meanwhile, the others are NOT_FOUND.
create or replace function app_public.discard_job(job_id bigint) returns boolean
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if not exists (select 1 from app_private.caller_jobs() j
                 where j.id = discard_job.job_id and j.locked_at is null and j.last_error is not null)
     or not exists (select 1 from graphile_worker.complete_jobs(array[discard_job.job_id])) then
    raise exception 'No such failed job, or it is running' using errcode = 'TNFND';
  end if;
  return true;
end;
$$;
comment on function app_public.discard_job(bigint) is '@module operations
@resultFieldName discarded
Deletes a failed job (one failedJobs lists) that no worker holds; NOT_FOUND otherwise. Your tenant''s jobs (needs jobs.manage); any job for platform operators.';

create or replace function app_public.retry_job(job_id bigint) returns app_public.job_info
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_job app_public.job_info;
begin
  -- Another tenant's job does not exist for the caller: NOT_FOUND, as for a missing one. A job that
  -- has not failed is not retried: it runs when it is due (a reminder at its time).
  if not exists (select 1 from app_private.caller_jobs() j
                 where j.id = retry_job.job_id and j.locked_at is null and j.last_error is not null) then
    raise exception 'No such failed job, or it is running' using errcode = 'TNFND';
  end if;
  if not app_private.retry_job(retry_job.job_id) then
    raise exception 'No such failed job, or it is running' using errcode = 'TNFND';
  end if;
  select * into v_job from app_private.caller_jobs() j where j.id = retry_job.job_id;
  return v_job;
end;
$$;
comment on function app_public.retry_job(bigint) is '@module operations
@resultFieldName job
Runs a failed job (one failedJobs lists) again now, with its attempts reset; NOT_FOUND otherwise. Your tenant''s jobs (needs jobs.manage); any job for platform operators.';
