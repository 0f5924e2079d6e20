--! Previous: sha1:d0cdfdd952db6b9062f7cb59364745c55e549fe0
--! Hash: sha1:c3d5963c784f512ff8a82d1e34876e06b124f815
--! Message: job_tenants prints alike on PostgreSQL 15 and 18

--! split: 070-operations.sql
-- app_private.job_tenants with two relations in its FROM, so that PostgreSQL 15 and 18 print its
-- definition alike (18 drops the alias of a single-table view's columns, 15 keeps it): the
-- reviewed sql/schema.sql is the same text on both.
create or replace view app_private.job_tenants as
  select pj.id, t.tenant_id
  from graphile_worker._private_jobs pj, lateral app_private.payload_tenant_id(pj.payload) as t(tenant_id);
comment on view app_private.job_tenants is
  E'@module operations\n'
  'The tenant of each job (its payload''s tenantId; null for platform jobs). The payload is not in '
  'graphile-worker''s public jobs view; this view is the one reader of its private table.';
