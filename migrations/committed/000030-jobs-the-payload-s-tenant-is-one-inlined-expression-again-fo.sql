--! Previous: sha1:c956d5959dbd6f739d6d6cdc8ac53485af5e7d90
--! Hash: sha1:320390c52cd2a75b6a1fb7be0740242a7ea47107
--! Message: Jobs: the payload's tenant is one inlined expression again for object payloads; batch payloads go through a helper

--! split: 1-current.sql
-- The tenant of a job's payload, for every job a caller's job list reads: an object's tenantId as
-- one expression PostgreSQL inlines into the view (no pinned search_path, which would stop that),
-- an array's (a batch job) from a helper only batch jobs reach.

create or replace function app_private.batch_payload_tenant_id(payload json)
  returns uuid
  language sql
  immutable
  set search_path to pg_catalog, public, pg_temp
as $$
  select case when count(*) > 0 and count(*) = count(t.tenant) and min(t.tenant) = max(t.tenant)
    then min(t.tenant)::uuid
  end
  from json_array_elements(batch_payload_tenant_id.payload) e(item),
    lateral (select case when json_typeof(e.item) = 'object'
      and e.item->>'tenantId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then lower(e.item->>'tenantId') end) t(tenant);
$$;
comment on function app_private.batch_payload_tenant_id(json) is
  E'@module platform\n'
  'The tenant of a batch job''s payload (a JSON array): the tenantId every item names, or null when '
  'the items name different tenants, or one names none.';

create or replace function app_private.payload_tenant_id(payload json)
  returns uuid
  language sql
  immutable
as $$
  select case pg_catalog.json_typeof(payload_tenant_id.payload)
    when 'object' then
      case when payload_tenant_id.payload operator(pg_catalog.->>) 'tenantId'
          operator(pg_catalog.~*) '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        then (payload_tenant_id.payload operator(pg_catalog.->>) 'tenantId')::pg_catalog.uuid
      end
    when 'array' then app_private.batch_payload_tenant_id(payload_tenant_id.payload)
  end;
$$;
comment on function app_private.payload_tenant_id(json) is
  E'@module platform\n'
  'The tenant a job payload names (its tenantId, when that is a UUID), or null. A batch job (an array '
  'payload) is a tenant''s when every item names that same tenant; otherwise it is a platform job.';
