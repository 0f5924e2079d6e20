--! Previous: sha1:07acf5ca21be290a67394c4064762bf1088c9361
--! Hash: sha1:767e677fa4f025cfabbf91b1074b47cd3dc3660c
--! Message: Payments: a bot event's push job names its tenant in its payload, so a store's failing pushes are its owner's and admins' jobs (failedJobs, retryJob), not platform jobs; queued ones take it from their queue's name

--! split: 700-payments.sql
-- A bot event's push job names its tenant in its payload. record_bot_event runs outside a request
-- (a provider's webhook, the payments poller), where neither the caller nor tessera.tenant_id says
-- whose it is, so the job was a platform job: a store's failing pushes were hidden from its owner
-- and admins (failedJobs, retryJob, discardJob), seen only by platform operators.
create or replace function app_private.record_bot_event(tenant_id uuid, bot_id uuid, type text, payload jsonb)
  returns bigint language plpgsql set search_path to pg_catalog, public, pg_temp as $$
declare
  v_id bigint;
begin
  insert into app_public.bot_events (tenant_id, bot_id, type, payload)
    values (record_bot_event.tenant_id, record_bot_event.bot_id, record_bot_event.type, record_bot_event.payload)
    returning id into v_id;
  if exists (select 1 from app_public.bots b where b.id = record_bot_event.bot_id and b.webhook_url is not null) then
    perform app_private.enqueue_job('push_bot_event',
      json_build_object('id', v_id, 'tenantId', record_bot_event.tenant_id),
      max_attempts => 12, queue_name => 'bot_events_' || record_bot_event.tenant_id);
  end if;
  return v_id;
end;
$$;

-- Push jobs already queued take their tenant from their queue's name (bot_events_<tenant id>).
update graphile_worker._private_jobs j
   set payload = jsonb_set(j.payload::jsonb, '{tenantId}', to_jsonb(substr(q.queue_name, 12)))::json
  from graphile_worker._private_job_queues q
 where j.job_queue_id = q.id and j.task_id = (select t.id from graphile_worker._private_tasks t
                                             where t.identifier = 'push_bot_event')
   and q.queue_name like 'bot\_events\_%' and j.payload->>'tenantId' is null;
