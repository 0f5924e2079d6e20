--! Previous: sha1:dbf832c4fd2d323cdfac92e6f2bf5793a8782f82
--! Hash: sha1:7cdb8ab864cab09d0f3dbc8952d6ba140c7fed48
--! Message: Performance: a cancelled event's reminder jobs are removed in one statement a batch, without a NOTIFY per job

--! split: 1-current.sql
-- Performance: an event's reminders are removed in one statement a batch, without a NOTIFY per job.
-- graphile_worker.remove_job notifies the workers' "jobs:insert" channel for every job it deletes
-- (1,000 notifications for an event of 1,000 participants, each read by every worker connection
-- while the cancellation's own notifications go out); complete_jobs deletes them all at once.

create or replace function app_private.remove_jobs(job_keys text[])
  returns void
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform graphile_worker.complete_jobs(
    array(select j.id from graphile_worker.jobs j where j.key = any(remove_jobs.job_keys)));
end;
$$;
comment on function app_private.remove_jobs(text[]) is
  E'@module platform\n'
  'Cancels the pending jobs with these keys, in one statement and without waking the workers; a job '
  'that is running is left to finish (and keeps its key).';

create or replace function app_private.remove_event_reminders(event_id uuid, after_participant_id uuid, batch_size integer)
  returns uuid
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_participants uuid[];
begin
  select array_agg(b.id order by b.id) into v_participants
  from (
    select p.id from app_public.event_participants p
    where p.event_id = remove_event_reminders.event_id
      and (remove_event_reminders.after_participant_id is null or p.id > remove_event_reminders.after_participant_id)
    order by p.id
    limit remove_event_reminders.batch_size
  ) b;
  if v_participants is null then
    return null;
  end if;
  perform app_private.remove_jobs(array(select 'event_reminder:' || p from unnest(v_participants) p));
  return v_participants[cardinality(v_participants)];
end;
$$;
