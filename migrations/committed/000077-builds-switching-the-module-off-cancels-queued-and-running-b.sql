--! Previous: sha1:3f8ef990b72ed6e1d6c903d079cc625f08ac077c
--! Hash: sha1:1cd25ccfd6e6426efe103d31b3a8be6e376149df
--! Message: builds: switching the module off cancels queued and running builds; releases dated when the lock is held

--! split: 120-builds.sql
-- Switching builds off (or dropping the tenant's row) cancels the tenant's queued and running builds:
-- a queued one never starts, a running one's command is stopped by its job, and each says why in a
-- `system` line. Before, they ran on the operator's command while the tenant could no longer see or
-- cancel them.
create or replace function app_private.stop_builds(tenant_id uuid, reason text) returns integer
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_stopped uuid[];
begin
  with stopped as (
    update app_public.builds b set status = 'cancelled', finished_at = now()
      where b.tenant_id = stop_builds.tenant_id and b.status in ('queued', 'running')
      returning b.id
  )
  select coalesce(array_agg(s.id), '{}') into v_stopped from stopped s;
  perform app_private.add_build_lines(s.id, array['system'], array['build cancelled: ' || stop_builds.reason])
    from unnest(v_stopped) s(id);
  perform app_private.remove_job('run_build:' || s.id) from unnest(v_stopped) s(id);
  return cardinality(v_stopped);
end;
$$;
comment on function app_private.stop_builds(uuid, text) is '@module builds
Cancels the tenant''s queued and running builds, each with a system line naming the reason; returns how many.';

create or replace function app_private.tg_tenant_modules__stop_builds() returns trigger
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.stop_builds(old.tenant_id, 'the builds module was switched off');
  return null;
end;
$$;
comment on function app_private.tg_tenant_modules__stop_builds() is '@module builds
After a tenant switches builds off (or drops its row): its queued and running builds are cancelled.';

drop trigger if exists _900_stop_builds on app_public.tenant_modules;
create trigger _900_stop_builds after update of enabled on app_public.tenant_modules
  for each row when (old.enabled and not new.enabled and old.module = 'builds')
  execute function app_private.tg_tenant_modules__stop_builds();
drop trigger if exists _900_stop_builds_deleted on app_public.tenant_modules;
create trigger _900_stop_builds_deleted after delete on app_public.tenant_modules
  for each row when (old.enabled and old.module = 'builds')
  execute function app_private.tg_tenant_modules__stop_builds();

create or replace function app_public.request_build()
 RETURNS app_public.builds
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_build app_public.builds;
begin
  -- The tenant's builds row share-locked first: switching the module off meanwhile waits for this
  -- build and cancels it, or is waited for and refuses it.
  perform 1 from app_public.tenant_modules tm
    where tm.tenant_id = app_public.current_tenant_id() and tm.module = 'builds' for share;
  perform app_private.assert_module_access('builds', 'builds.manage');
  -- One request at a time per tenant past this point, so the count below stays true.
  perform pg_advisory_xact_lock(hashtextextended('tessera.request_build:' || app_public.current_tenant_id(), 0));
  if (select count(*) from app_public.builds b
      where b.tenant_id = app_public.current_tenant_id() and b.status in ('queued', 'running')) >= 5 then
    raise exception 'At most 5 builds may be queued or running; wait for one to finish or cancel one'
      using errcode = 'TCONF', detail = json_build_object('reason', 'TOO_MANY_BUILDS')::text;
  end if;
  insert into app_public.builds (tenant_id, requested_by, modules)
    values (app_public.current_tenant_id(), app_public.current_user_id(),
            array(select tm.module from app_public.tenant_modules tm
                  where tm.tenant_id = app_public.current_tenant_id() and tm.enabled order by tm.module))
    returning * into v_build;
  perform app_private.publish_event('build_requested', v_build.tenant_id, 'build', v_build.id::text,
                                    jsonb_build_object('buildId', v_build.id, 'requestedBy', v_build.requested_by,
                                                       'modules', to_jsonb(v_build.modules)));
  perform app_private.enqueue_job('run_build', json_build_object('tenantId', v_build.tenant_id, 'buildId', v_build.id),
                                  job_key => 'run_build:' || v_build.id, max_attempts => 3,
                                  queue_name => 'builds_' || v_build.tenant_id);
  return v_build;
end;
$function$;
comment on function app_public.request_build() is '@module builds
@resultFieldName build
Requests a build of the caller''s tenant (needs builds.manage): queued, with the enabled modules, its build_requested event and its run_build job, all in the caller''s transaction.';

-- Releases are dated when the tenant's release lock is held (clock_timestamp), not when their
-- transaction began: two activations, the second waiting for the first, dated the second's
-- superseding before the first's activation, and a rollback could bring back the wrong release.
create or replace function app_public.activate_release(build_id uuid)
 RETURNS app_public.releases
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_tenant uuid := app_public.current_tenant_id();
  v_build app_public.builds;
  v_release app_public.releases;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  perform app_private.lock_releases(v_tenant);
  select * into v_build from app_public.builds b where b.id = activate_release.build_id and b.tenant_id = v_tenant;
  if v_build.id is null then
    raise exception 'No such build' using errcode = 'TNFND';
  end if;
  if v_build.status <> 'succeeded' then
    raise exception 'Only a succeeded build can be released; this one is %', v_build.status
      using errcode = 'TCONF',
            detail = json_build_object('reason', 'BUILD_NOT_SUCCEEDED', 'status', v_build.status)::text;
  end if;
  select * into v_release from app_public.releases r where r.tenant_id = v_tenant and r.status = 'active';
  if v_release.build_id = v_build.id then
    return v_release;
  end if;
  -- The time the release lock was held, not the transaction's start: an activation that waited for
  -- another must not date its changes before the other's.
  update app_public.releases r set status = 'superseded', superseded_at = clock_timestamp()
    where r.tenant_id = v_tenant and r.status = 'active';
  insert into app_public.releases (tenant_id, build_id, activated_by, activated_at)
    values (v_tenant, v_build.id, app_public.current_user_id(), clock_timestamp())
    returning * into v_release;
  return v_release;
end;
$function$;
comment on function app_public.activate_release(uuid) is '@module builds
@resultFieldName release
Makes a succeeded build of the caller''s tenant the active release, superseding the previous one (needs builds.manage; under the tenant''s release lock). Activating the active build again changes nothing.';

create or replace function app_public.rollback_release()
 RETURNS app_public.releases
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_tenant uuid := app_public.current_tenant_id();
  v_active app_public.releases;
  v_previous app_public.releases;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  perform app_private.lock_releases(v_tenant);
  select * into v_active from app_public.releases r where r.tenant_id = v_tenant and r.status = 'active';
  if v_active.id is null then
    raise exception 'There is no active release' using errcode = 'TCONF',
      detail = json_build_object('reason', 'NO_ACTIVE_RELEASE')::text;
  end if;
  select * into v_previous from app_public.releases r
    where r.tenant_id = v_tenant and r.status = 'superseded'
    order by r.superseded_at desc, r.activated_at desc limit 1;
  if v_previous.id is null then
    raise exception 'There is no previous release to go back to' using errcode = 'TCONF',
      detail = json_build_object('reason', 'NO_PREVIOUS_RELEASE')::text;
  end if;
  update app_public.releases r set status = 'rolled_back', rolled_back_at = clock_timestamp() where r.id = v_active.id;
  update app_public.releases r
    set status = 'active', superseded_at = null, activated_at = clock_timestamp(),
        activated_by = app_public.current_user_id()
    where r.id = v_previous.id returning * into v_previous;
  return v_previous;
end;
$function$;
comment on function app_public.rollback_release() is '@module builds
@resultFieldName release
Marks the active release rolled_back and re-activates the one it superseded (needs builds.manage; under the tenant''s release lock). No active or no previous release is a CONFLICT.';
