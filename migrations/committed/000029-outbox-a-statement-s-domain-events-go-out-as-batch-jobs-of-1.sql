--! Previous: sha1:1af1479bd0258d0978cc89e795878c2041c087a8
--! Hash: sha1:c956d5959dbd6f739d6d6cdc8ac53485af5e7d90
--! Message: Outbox: a statement's domain events go out as batch jobs of 100; tenants' identities set up in one statement per table

--! split: 1-current.sql
-- The outbox delivers a statement's domain events in batches: publish_events enqueues one
-- graphile-worker batch job (an array payload) per 100 events instead of a job per event, and the
-- tenant_created consumers set up a batch of tenants in one statement each.

create or replace function app_private.payload_tenant_id(payload json)
  returns uuid
  language sql
  immutable
  set search_path to pg_catalog, public, pg_temp
as $$
  with items as (
    select payload_tenant_id.payload as item where json_typeof(payload_tenant_id.payload) = 'object'
    union all
    select e from json_array_elements(
      case when json_typeof(payload_tenant_id.payload) = 'array' then payload_tenant_id.payload end) e
  )
  select case when count(*) > 0 and count(*) = count(t.tenant) and min(t.tenant) = max(t.tenant)
    then min(t.tenant)::uuid
  end
  from items i,
    lateral (select case when json_typeof(i.item) = 'object'
      and i.item->>'tenantId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then lower(i.item->>'tenantId') end) t(tenant);
$$;
comment on function app_private.payload_tenant_id(json) is
  E'@module platform\n'
  'The tenant a job payload names (its tenantId, when that is a UUID), or null. A batch job (an array '
  'payload) is a tenant''s when every item names that same tenant; otherwise it is a platform job.';

create or replace function app_private.publish_events(type text, aggregate_type text, events jsonb)
  returns void
  language sql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  with published as (
    insert into app_private.domain_events (type, tenant_id, aggregate_type, aggregate_id, payload)
    select publish_events.type, (e->>'tenant_id')::uuid, publish_events.aggregate_type, e->>'aggregate_id',
      coalesce(e->'payload', '{}'::jsonb)
    from jsonb_array_elements(publish_events.events) with ordinality as t(e, n)
    order by t.n
    returning id, tenant_id
  ), items as (
    select p.id, json_strip_nulls(json_build_object('id', p.id, 'tenantId', p.tenant_id)) as item,
      (row_number() over (order by p.id) - 1) / 100 as batch
    from published p
  ), batches as (
    select min(i.id) as first_id,
      case when count(*) = 1 then min(i.item::text)::json else json_agg(i.item order by i.id) end as payload
    from items i
    group by i.batch
  )
  select app_private.enqueue_jobs(array_agg(
    row('domain_event', b.payload, null, null, null, null, null, null)::graphile_worker.job_spec
    order by b.first_id))
  from batches b;
$$;
comment on function app_private.publish_events(text,text,jsonb) is
  E'@module platform\n'
  'publish_event for many aggregates at once: events is a JSON array of {tenant_id, aggregate_id, payload}; '
  'one insert into the log and one add_jobs call, a domain_event batch job (an array of {id, tenantId}) '
  'per 100 events.';

create or replace function app_private.ensure_tenant_identities(tenant_ids uuid[])
  returns void
  language sql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  insert into app_public.roles (tenant_id, name, is_builtin)
    select t.id, r.name, true
    from app_public.tenants t, unnest(array['owner', 'admin', 'manager', 'member']) as r(name)
    where t.id = any(ensure_tenant_identities.tenant_ids)
    order by t.id, r.name
    on conflict on constraint roles_tenant_id_name_key do nothing;
  insert into app_public.role_permissions (role_id, permission)
    select r.id, g.permission
    from app_public.roles r join app_private.builtin_role_permissions g on g.role_name = r.name
    where r.tenant_id = any(ensure_tenant_identities.tenant_ids) and r.is_builtin
    on conflict on constraint role_permissions_pkey do nothing;
  insert into app_public.users (tenant_id, email, username, full_name, is_system)
    select t.id, 'system@' || t.slug || '.tessera.invalid', 'system', 'System', true
    from app_public.tenants t
    where t.id = any(ensure_tenant_identities.tenant_ids)
    order by t.id
    on conflict on constraint users_tenant_id_username_key do nothing;
$$;
comment on function app_private.ensure_tenant_identities(uuid[]) is
  E'@module identity\n'
  'Creates the tenants'' built-in roles with the grants of app_private.builtin_role_permissions and their '
  'system users, where missing, in one statement each (run by the tenant_created consumer; idempotent).';

create or replace function app_private.ensure_tenant_identity(tenant_id uuid)
  returns void
  language sql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.ensure_tenant_identities(array[ensure_tenant_identity.tenant_id]);
$$;
comment on function app_private.ensure_tenant_identity(uuid) is
  E'@module identity\n'
  'ensure_tenant_identities for one tenant (the bootstrap, the demo seed, test fixtures).';
