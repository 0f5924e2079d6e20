-- Builds after an outside attack: at most 5 builds of a tenant queued or running at a time (one
-- request could queue hundreds), their jobs one at a time per tenant (a tenant's builds hold one
-- worker slot), and a build that is no longer running takes no more output.

create or replace function app_public.request_build() returns app_public.builds
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
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
$$;

create or replace function app_private.append_build_log(build_id uuid, streams text[], texts text[]) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_status text;
begin
  -- Under the build's row lock, so a cancel is either before (no lines) or after (the lines first).
  select b.status into v_status from app_public.builds b where b.id = append_build_log.build_id for update;
  if v_status = 'running' then
    perform app_private.add_build_lines(append_build_log.build_id, append_build_log.streams, append_build_log.texts);
  end if;
  return v_status;
end;
$$;
