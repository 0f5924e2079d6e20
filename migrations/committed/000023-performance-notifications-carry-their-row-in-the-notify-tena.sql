--! Previous: sha1:b55ce90c8a5dde2008891f9dfd54fe260848145c
--! Hash: sha1:f6ef548736220bfbe57d194ba0ee79a661214252
--! Message: Performance: notifications carry their row in the NOTIFY, tenant events published per statement, participant counts index-only

--! split: 1-current.sql
-- Enter migration here

--! split: 2-notification-fanout.sql
--------------------------------------------------------------------------------------------------
-- notifications: the NOTIFY of a new notification carries the row itself, so `notificationAdded`
-- answers every subscriber from the message instead of reading the row back once per subscriber.
-- A row whose message would not fit PostgreSQL's payload limit (8000 bytes) is sent as its id
-- alone and read back under RLS as before.

drop function if exists app_hidden.instant_notification_json(app_public.instant_notifications);
create function app_hidden.instant_notification_json(n app_public.instant_notifications) returns json
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  -- Each value as PostGraphile reads the column (timestamptz through to_char in its format), so
  -- an answer built from this object is the answer a read of the row gives.
  select json_build_object(
    'id', n.id,
    'tenant_id', n.tenant_id,
    'recipient_id', n.recipient_id,
    'kind', n.kind,
    'title', n.title,
    'content', n.content,
    'cta_url', n.cta_url,
    'cta_label', n.cta_label,
    'subject_id', n.subject_id,
    'acked_at', to_char(n.acked_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'),
    'created_at', to_char(n.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM')
  );
$$;
comment on function app_hidden.instant_notification_json(app_public.instant_notifications) is
  E'@module notifications\n'
  'A notification as the JSON object notificationAdded answers from: attribute names, PostGraphile''s text forms.';
grant execute on function app_hidden.instant_notification_json(app_public.instant_notifications) to :DATABASE_VISITOR;

create or replace function app_private.tg_instant_notifications__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_payload text := json_build_object('id', new.id, 'row', app_hidden.instant_notification_json(new))::text;
begin
  -- pg_notify refuses a payload of 8000 bytes or more.
  if octet_length(v_payload) >= 8000 then
    v_payload := json_build_object('id', new.id)::text;
  end if;
  perform pg_notify('user:' || new.recipient_id::text || ':notifications', v_payload);
  return null;
end;
$$;
comment on function app_private.tg_instant_notifications__notify() is
  E'@module notifications\n'
  'Delivers a new notification live: NOTIFY user:<recipient>:notifications with the row '
  '(instant_notification_json), or its id alone when the row would not fit the 8000-byte payload limit.';

--! split: 3-outbox-scale.sql
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
