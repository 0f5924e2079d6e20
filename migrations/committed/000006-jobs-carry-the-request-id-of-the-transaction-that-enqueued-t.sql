--! Previous: sha1:297593a240bab175779cc1e1674a6ca6ecd8491f
--! Hash: sha1:4d7be2e07bc3dc8e70b87c9bdcc5e7e2d5f1baac
--! Message: jobs carry the request id of the transaction that enqueued them

-- The request's X-Request-Id (transaction setting tessera.request_id) rides along in the payload
-- of every job that request enqueues, so worker logs can be tied back to the request.
create or replace function app_private.with_request_id(payload json) returns json
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case
    when nullif(pg_catalog.current_setting('tessera.request_id', true), '') is null or json_typeof(with_request_id.payload) is distinct from 'object'
      then with_request_id.payload
    else (with_request_id.payload::jsonb || jsonb_build_object('requestId', pg_catalog.current_setting('tessera.request_id', true)))::json
  end;
$$;
comment on function app_private.with_request_id(json) is 'Adds the current request id (if any) to a job payload object.';

create or replace function app_private.enqueue_job(
  task text,
  payload json default '{}',
  run_at timestamptz default null,
  job_key text default null,
  max_attempts integer default null,
  queue_name text default null,
  priority integer default null
) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform graphile_worker.add_job(
    identifier => enqueue_job.task,
    payload => app_private.with_request_id(enqueue_job.payload),
    queue_name => enqueue_job.queue_name,
    run_at => enqueue_job.run_at,
    max_attempts => enqueue_job.max_attempts::smallint,
    job_key => enqueue_job.job_key,
    priority => enqueue_job.priority::smallint
  );
end;
$$;

create or replace function app_private.enqueue_jobs(specs graphile_worker.job_spec[]) returns void
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if cardinality(enqueue_jobs.specs) > 0 then
    perform graphile_worker.add_jobs(array(
      select row(s.identifier, app_private.with_request_id(s.payload), s.queue_name, s.run_at, s.max_attempts, s.job_key, s.priority, s.flags)::graphile_worker.job_spec
      from unnest(enqueue_jobs.specs) s
    ));
  end if;
end;
$$;
