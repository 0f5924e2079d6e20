--------------------------------------------------------------------------------------------------
-- 010-platform: what every module builds on.
--
-- One access guard for module functions and routes, app_private.assert_module_access: the caller
-- is signed in (UNAUTHENTICATED otherwise), the module is switched on for the caller's tenant and
-- the caller holds the permission, when one is named (FORBIDDEN otherwise). Two forms: (module,
-- permission) for the request's session, (user_id, tenant_id, module, permission) for code that
-- runs as the owner for a user its request verified (REST routes). Its two parts are functions of
-- their own, and the claims helpers tenant_module_enabled and current_user_has_permission use them.
--
-- The worker's housekeeping reads graphile-worker's public jobs view, not its private table.
--
-- Every object of our schemas carries its module in the first line of its comment,
-- `@module <name>` (platform, tenancy, identity, notifications, events, media, operations).
-- PostGraphile reads that line as a smart tag, so it never reaches a GraphQL description.
--
-- Policies are named <command>_<who>: who is `anyone`, `member` (signed-in member of the row's
-- tenant), `self` (rows about the signed-in user) or a permission with `_` for `.` (modules_manage),
-- joined by `_or_` (select_self_or_events_manage). Each module's section renames its own.

create or replace function app_private.tenant_module_enabled(tenant_id uuid, module text) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_public.tenant_modules tm
    where tm.tenant_id = tenant_module_enabled.tenant_id and tm.module = tenant_module_enabled.module and tm.enabled
  );
$$;
comment on function app_private.tenant_module_enabled(uuid, text) is
  E'@module platform\nTrue when the tenant has the module switched on.';

create or replace function app_private.user_has_permission(user_id uuid, tenant_id uuid, permission text)
  returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1
    from app_public.user_roles ur
    join app_public.roles r on r.id = ur.role_id
    join app_public.role_permissions rp on rp.role_id = ur.role_id
    where ur.user_id = user_has_permission.user_id
      and r.tenant_id = user_has_permission.tenant_id
      and rp.permission = user_has_permission.permission
  );
$$;
comment on function app_private.user_has_permission(uuid, uuid, text) is
  E'@module platform\nTrue when the user holds a role of the tenant that grants the permission.';

create or replace function app_public.tenant_module_enabled(module text) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.tenant_module_enabled(app_public.current_tenant_id(), tenant_module_enabled.module);
$$;
comment on function app_public.tenant_module_enabled(text) is
  E'@module platform\nTrue when the current tenant has the module switched on.';

create or replace function app_public.current_user_has_permission(permission text) returns boolean
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  select app_private.user_has_permission(app_public.current_user_id(), app_public.current_tenant_id(),
                                         current_user_has_permission.permission);
$$;
comment on function app_public.current_user_has_permission(text) is
  E'@module platform\n'
  'True when the signed-in user holds a role that grants the permission in the current tenant.';

-- The guard. The checks run in this order, so an anonymous caller is always UNAUTHENTICATED.
create or replace function app_private.assert_module_access(
  user_id uuid, tenant_id uuid, module text, permission text default null
) returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if assert_module_access.user_id is null then
    raise exception 'Sign in first' using errcode = 'TAUTH';
  end if;
  if not app_private.tenant_module_enabled(assert_module_access.tenant_id, assert_module_access.module) then
    raise exception 'The % module is switched off for this tenant', assert_module_access.module
      using errcode = 'TFORB';
  end if;
  if assert_module_access.permission is not null and not app_private.user_has_permission(
       assert_module_access.user_id, assert_module_access.tenant_id, assert_module_access.permission) then
    raise exception 'This needs the % permission', assert_module_access.permission using errcode = 'TFORB';
  end if;
end;
$$;
comment on function app_private.assert_module_access(uuid, uuid, text, text) is
  E'@module platform\n'
  'The access guard for a given user of a given tenant (callers running as the owner for a user their '
  'request verified): UNAUTHENTICATED without a user; FORBIDDEN when the module is switched off for the '
  'tenant or the user lacks the permission (null: none needed).';

create or replace function app_private.assert_module_access(module text, permission text default null)
  returns void
  language plpgsql stable
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_module_access(app_public.current_user_id(), app_public.current_tenant_id(),
                                           assert_module_access.module, assert_module_access.permission);
end;
$$;
comment on function app_private.assert_module_access(text, text) is
  E'@module platform\n'
  'The access guard of module functions, for the signed-in user of the request: UNAUTHENTICATED when '
  'signed out; FORBIDDEN when the module is switched off for the tenant or the user lacks the permission '
  '(null: none needed).';

--------------------------------------------------------------------------------------------------
-- Worker housekeeping through graphile-worker's public jobs view (id, locked_by, locked_at).

create or replace function app_private.release_dead_workers(stale_after interval) returns integer
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_dead text[];
  v_jobs integer;
begin
  -- Registered pools that stopped beating...
  select coalesce(array_agg(w.id), '{}') into v_dead
    from app_private.worker_pools w where w.beat_at < now() - release_dead_workers.stale_after;
  -- ...and continuous pools ('pool-…'; run-once pools are 'otpool-…') that never registered but
  -- have held a job that long: a process killed between taking jobs and registering.
  select v_dead || coalesce(array_agg(distinct j.locked_by), '{}') into v_dead
    from graphile_worker.jobs j
    where j.locked_by like 'pool-%' and j.locked_at < now() - release_dead_workers.stale_after
      and not exists (select 1 from app_private.worker_pools w where w.id = j.locked_by);
  if cardinality(v_dead) = 0 then
    return 0;
  end if;
  select count(*)::integer into v_jobs from graphile_worker.jobs j where j.locked_by = any(v_dead);
  perform graphile_worker.force_unlock_workers(v_dead);
  delete from app_private.worker_pools w where w.id = any(v_dead);
  return v_jobs;
end;
$$;
comment on function app_private.release_dead_workers(interval) is
  E'@module platform\n'
  'Releases the jobs (and named queues) of worker pools whose heartbeat is older than stale_after; '
  'returns how many jobs were released.';

create or replace function app_private.cleanup_email_deliveries() returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  -- A finished job's rows are never read again (job ids are not reused).
  with deleted as (
    delete from app_private.email_deliveries d
    where not exists (select 1 from graphile_worker.jobs j where j.id = d.job_id)
    returning 1
  )
  select count(*)::integer from deleted
$$;
comment on function app_private.cleanup_email_deliveries() is
  E'@module platform\nDeletes the delivery records of send_email jobs that no longer exist.';

--------------------------------------------------------------------------------------------------
-- The platform's other objects, with their module.

comment on table app_private.settings is
  E'@module platform\nConfiguration the server writes at start-up for triggers to read.';
comment on table app_private.domain_events is
  E'@module platform\nAppend-only log of business events, for audit and read models.';
comment on table app_private.domain_event_deliveries is
  E'@module platform\nWhich consumer has handled which event; makes redelivery harmless.';
comment on table app_private.worker_heartbeat is
  E'@module platform\nLast time a worker ran the heartbeat cron job.';
comment on table app_private.worker_pools is
  E'@module platform\n'
  'Live graphile-worker pools (id = jobs.locked_by) and their last heartbeat; a stale one is presumed dead '
  'and its jobs are released.';
comment on table app_private.email_deliveries is
  E'@module platform\n'
  'Messages of send_email jobs already accepted (or permanently refused) by the SMTP server, keyed by '
  'Message-ID; rows go when their job is gone.';

comment on function app_public.current_session_id() is
  E'@module platform\n'
  'The session of the request, or null when anonymous, when the session is revoked or expired, or when its '
  'tenant is suspended.';
comment on function app_public.current_user_id() is
  E'@module platform\nThe signed-in user, or null for anonymous requests and dead sessions.';
comment on function app_public.current_tenant_id() is
  E'@module platform\nThe tenant of the signed-in user, or null for anonymous requests and dead sessions.';
comment on function app_hidden.session_claims(uuid[]) is
  E'@module platform\n'
  'The user, tenant and current highest role of each given session that is live: not revoked, not expired, '
  'user not deleted, tenant active. The highest role is the best built-in one (owner > admin > manager > '
  'member), else the first custom one by name, else member. An array, so that the API re-checks every open '
  'WebSocket''s session in one statement.';
comment on function app_hidden.assert_search_text(text) is
  E'@module platform\n'
  'True for a search text of at most 256 characters; raises VALIDATION_FAILED otherwise.';

comment on function app_private.setting(text) is
  E'@module platform\nThe value of a runtime setting (app_private.settings), or null when it is not set.';
comment on function app_private.tg__timestamps() is
  E'@module platform\nKeeps created_at fixed and updated_at moving forward.';
comment on function app_private.tg__refuse_change() is
  E'@module platform\nMakes a table append-only: UPDATE, DELETE and TRUNCATE raise.';
comment on function app_private.enqueue_job(text, json, timestamptz, text, integer, text, integer) is
  E'@module platform\n'
  'Enqueues a graphile-worker job in the current transaction; triggers use it so request roles need no '
  'grants on the queue.';
comment on function app_private.enqueue_jobs(graphile_worker.job_spec[]) is
  E'@module platform\n'
  'Enqueues many jobs in one statement (one NOTIFY at commit instead of one per job); job keys replace '
  'pending jobs.';
comment on function app_private.remove_job(text) is
  E'@module platform\nCancels the pending job with this key, if any (a running job is left to finish).';
comment on function app_private.with_request_id(json) is
  E'@module platform\nAdds the current request id (if any) to a job payload object.';
comment on function app_private.stamp_job_payload(text, json) is
  E'@module platform\nAdds the request id and the job''s tenant (tenantId) to a job payload object.';
comment on function app_private.payload_tenant_id(json) is
  E'@module platform\nThe tenant a job payload names (its tenantId, when that is a UUID), or null.';
comment on function app_private.job_tenant_id(text, json) is
  E'@module platform\n'
  'The tenant a job being enqueued belongs to, in this order: the signed-in user''s tenant; the transaction '
  'setting tessera.tenant_id; the payload''s tenantId; the tenant of the row the payload names '
  '(domain_event: its event; userId, participantId, eventId). Null: a platform job.';
comment on function app_private.publish_event(text, uuid, text, text, jsonb) is
  E'@module platform\n'
  'Appends a domain event and enqueues its delivery to the registered consumers, in the caller''s '
  'transaction.';
