-- Outbox and scale: a statement that creates many tenants publishes their events with one insert
-- and enqueues their jobs with one add_jobs call (graphile_worker.add_job called once per row
-- slows down with every job the same transaction already added: 20,000 rows took minutes).

create or replace function app_private.publish_events(type text, aggregate_type text, events jsonb)
  returns void
  language sql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
  with published as (
    insert into app_private.domain_events (type, tenant_id, aggregate_type, aggregate_id, payload)
    select publish_events.type, (e->>'tenant_id')::uuid, publish_events.aggregate_type, e->>'aggregate_id',
      coalesce(e->'payload', '{}'::jsonb)
    from jsonb_array_elements(publish_events.events) with ordinality as t(e, n)
    order by t.n
    returning id, tenant_id
  )
  select app_private.enqueue_jobs(array_agg(
    row('domain_event', json_strip_nulls(json_build_object('id', p.id, 'tenantId', p.tenant_id)),
      null, null, null, null, null, null)::graphile_worker.job_spec
    order by p.id))
  from published p;
$$;
comment on function app_private.publish_events(text, text, jsonb) is '@module platform
publish_event for many aggregates at once: events is a JSON array of {tenant_id, aggregate_id, payload};
one insert into the log, one add_jobs call.';
revoke all on function app_private.publish_events(text, text, jsonb) from public;

-- Statement level: the new tenants arrive as a transition table.
create or replace function app_private.tg_tenants__publish_created() returns trigger
  language plpgsql
as $$
begin
  perform app_private.publish_events('tenant_created', 'tenant', coalesce(jsonb_agg(jsonb_build_object(
      'tenant_id', n.id, 'aggregate_id', n.id::text, 'payload', jsonb_build_object('slug', n.slug))), '[]'))
    from new_tenants n;
  return null;
end;
$$;
comment on function app_private.tg_tenants__publish_created() is '@module tenancy
Publishes tenant_created for each new tenant (one statement''s tenants at once); its consumers give it its
roles, system user and modules.';

drop trigger if exists _900_publish_created on app_public.tenants;
create trigger _900_publish_created after insert on app_public.tenants
  referencing new table as new_tenants
  for each statement execute function app_private.tg_tenants__publish_created();

-- A participant count (events_participants_count: tenant, event, status) is answered from the index
-- alone. Partial, so that status is no indexed column: the API gains no filter or order on it (it would
-- with status as a key or an included column); (tenant_id, event_id) stays for the foreign key.
drop index if exists app_public.event_participants_tenant_event_status_idx;
drop index if exists app_public.event_participants_tenant_event_incl_status_idx;
create index if not exists event_participants_tenant_event_idx
  on app_public.event_participants (tenant_id, event_id);
create index if not exists event_participants_participating_idx
  on app_public.event_participants (tenant_id, event_id) where status = 'PARTICIPATING';
