--------------------------------------------------------------------------------------------------
-- 3-builds: builds of a tenant's configuration and the releases made from them (docs/builds.md).
--
-- A holder of builds.manage requests a build (app_public.request_build): the build row (queued,
-- with a snapshot of the tenant's enabled modules), the build_requested domain event and the
-- run_build job are written in the caller's transaction, so a rolled-back request leaves none of
-- them. The worker's run_build task moves it to running (app_private.start_build), appends its
-- output as numbered log lines (app_private.append_build_log, which answers the build's status so
-- the job notices a cancel) and ends it (app_private.finish_build: succeeded or failed, only from
-- running). cancel_build ends a queued or running build; the job stops its command on its next
-- check. A succeeded build becomes the tenant's active release (activate_release), superseding the
-- previous one; rollback_release marks the active one rolled_back and re-activates the one it
-- superseded. Both take the tenant's release lock (a transaction advisory lock), and a partial
-- unique index keeps at most one active release per tenant. Changes are NOTIFYed on
-- tenant:<id>:builds ({id, status, fromLine, toLine}) for the buildUpdated subscription.

drop function if exists app_public.request_build();
drop function if exists app_public.cancel_build(uuid);
drop function if exists app_public.activate_release(uuid);
drop function if exists app_public.rollback_release();
drop function if exists app_private.lock_releases(uuid);
drop function if exists app_private.start_build(uuid);
drop function if exists app_private.append_build_log(uuid, text[], text[]);
drop function if exists app_private.finish_build(uuid, text, text);
drop function if exists app_private.build_status(uuid);
drop function if exists app_private.add_build_lines(uuid, text[], text[]);
drop table if exists app_public.releases cascade;
drop table if exists app_public.build_log_lines cascade;
drop table if exists app_public.builds cascade;
drop function if exists app_private.tg_builds__notify();

insert into app_public.modules (name, description)
  values ('builds', 'Builds of the tenant''s configuration, with live logs, and the releases made from them.')
  on conflict (name) do nothing;

insert into app_public.permissions (name, description)
  values ('builds.manage', 'Request, follow and cancel builds; activate and roll back releases.')
  on conflict (name) do nothing;

insert into app_private.builtin_role_permissions (role_name, permission)
  values ('owner', 'builds.manage'), ('admin', 'builds.manage')
  on conflict do nothing;

--------------------------------------------------------------------------------------------------
-- Builds and their log lines.

create table app_public.builds (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  requested_by uuid,
  modules text[] not null default '{}',
  status text not null default 'queued'
    check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  line_count integer not null default 0 check (line_count >= 0),
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  foreign key (tenant_id, requested_by) references app_public.users (tenant_id, id) on delete set null (requested_by)
);
create unique index builds_tenant_id_id_key on app_public.builds (tenant_id, id);
create index builds_tenant_created_idx on app_public.builds (tenant_id, created_at desc);
create index builds_requested_by_idx on app_public.builds (tenant_id, requested_by);
comment on table app_public.builds is E'@module builds\n@behavior -insert -update -delete\n'
  'A build of the tenant''s configuration: who asked, the modules enabled then, its status and its log.';
comment on column app_public.builds.modules is 'The tenant''s enabled modules when the build was requested.';
comment on column app_public.builds.status is 'queued, running, succeeded, failed or cancelled.';
comment on column app_public.builds.line_count is 'How many log lines the build has (the last line''s number).';
comment on constraint builds_tenant_id_requested_by_fkey on app_public.builds is E'@behavior -*';

alter table app_public.builds enable row level security;
create policy select_builds_manage on app_public.builds for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('builds'))
  and (select app_public.current_user_has_permission('builds.manage')));
grant select on app_public.builds to :DATABASE_VISITOR;

create table app_public.build_log_lines (
  tenant_id uuid not null references app_public.tenants on delete cascade,
  build_id uuid not null,
  line_number integer not null check (line_number >= 1),
  stream text not null check (stream in ('stdout', 'stderr', 'system')),
  text text not null,
  created_at timestamptz not null default now(),
  primary key (build_id, line_number),
  foreign key (tenant_id, build_id) references app_public.builds (tenant_id, id) on delete cascade
);
create index build_log_lines_tenant_build_idx on app_public.build_log_lines (tenant_id, build_id, line_number);
comment on table app_public.build_log_lines is E'@module builds\n@behavior -insert -update -delete\n'
  'One line of a build''s output: its number, stream (stdout, stderr or system) and text.';
comment on constraint build_log_lines_tenant_id_build_id_fkey on app_public.build_log_lines is
  E'@fieldName build\n@foreignFieldName logLines';
alter table app_public.build_log_lines enable row level security;
create policy select_builds_manage on app_public.build_log_lines for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('builds'))
  and (select app_public.current_user_has_permission('builds.manage')));
grant select on app_public.build_log_lines to :DATABASE_VISITOR;

create function app_private.tg_builds__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.status is distinct from old.status or new.line_count is distinct from old.line_count then
    perform pg_notify('tenant:' || new.tenant_id::text || ':builds',
                      json_build_object('id', new.id, 'status', new.status,
                                        'fromLine', old.line_count, 'toLine', new.line_count)::text);
  end if;
  return null;
end;
$$;
comment on function app_private.tg_builds__notify() is E'@module builds\n'
  'After a build changes: NOTIFY tenant:<id>:builds with its id, status and the range of its new log lines.';
create trigger _500_notify after update on app_public.builds
  for each row execute function app_private.tg_builds__notify();

-- Appends lines to a build (no check of its status: a cancelled build still gets its last lines).
create function app_private.add_build_lines(build_id uuid, streams text[], texts text[]) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
  v_count integer := coalesce(cardinality(add_build_lines.texts), 0);
begin
  if v_count = 0 then
    return;
  end if;
  if coalesce(cardinality(add_build_lines.streams), 0) <> v_count then
    raise exception 'One stream per line' using errcode = 'TVALD';
  end if;
  update app_public.builds b set line_count = b.line_count + v_count
    where b.id = add_build_lines.build_id returning * into v_build;
  if v_build.id is null then
    return;
  end if;
  insert into app_public.build_log_lines (tenant_id, build_id, line_number, stream, text)
    select v_build.tenant_id, v_build.id, v_build.line_count - v_count + l.n::integer, l.stream, l.text
    from unnest(add_build_lines.streams, add_build_lines.texts) with ordinality as l(stream, text, n);
end;
$$;
comment on function app_private.add_build_lines(uuid, text[], text[]) is E'@module builds\n'
  'Appends numbered log lines (streams and texts, in order) to a build.';

--------------------------------------------------------------------------------------------------
-- Requesting and cancelling (requests), running (the worker, as the owner).

create function app_public.request_build() returns app_public.builds
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  insert into app_public.builds (tenant_id, requested_by, modules)
    values (app_public.current_tenant_id(), app_public.current_user_id(),
            array(select tm.module from app_public.tenant_modules tm
                  where tm.tenant_id = app_public.current_tenant_id() and tm.enabled order by tm.module))
    returning * into v_build;
  perform app_private.publish_event('build_requested', v_build.tenant_id, 'build', v_build.id::text,
                                    jsonb_build_object('buildId', v_build.id, 'requestedBy', v_build.requested_by,
                                                       'modules', to_jsonb(v_build.modules)));
  perform app_private.enqueue_job('run_build', json_build_object('tenantId', v_build.tenant_id, 'buildId', v_build.id),
                                  job_key => 'run_build:' || v_build.id, max_attempts => 3);
  return v_build;
end;
$$;
comment on function app_public.request_build() is E'@module builds\n@resultFieldName build\n'
  'Requests a build of the caller''s tenant (needs builds.manage): queued, with the enabled modules, its '
  'build_requested event and its run_build job, all in the caller''s transaction.';
revoke execute on function app_public.request_build() from public;
grant execute on function app_public.request_build() to :DATABASE_VISITOR;

create function app_public.cancel_build(id uuid) returns app_public.builds
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  perform app_private.assert_module_access('builds', 'builds.manage');
  select * into v_build from app_public.builds b
    where b.id = cancel_build.id and b.tenant_id = app_public.current_tenant_id()
    for update;
  if v_build.id is null then
    raise exception 'No such build' using errcode = 'TNFND';
  end if;
  if v_build.status not in ('queued', 'running') then
    raise exception 'Only a queued or running build can be cancelled; this one is %', v_build.status
      using errcode = 'TCONF', detail = json_build_object('reason', 'BUILD_FINISHED', 'status', v_build.status)::text;
  end if;
  perform app_private.add_build_lines(v_build.id, array['system'], array['build cancelled']);
  update app_public.builds b set status = 'cancelled', finished_at = now()
    where b.id = v_build.id returning * into v_build;
  perform app_private.remove_job('run_build:' || v_build.id);
  return v_build;
end;
$$;
comment on function app_public.cancel_build(uuid) is E'@module builds\n@resultFieldName build\n'
  'Cancels a queued or running build (needs builds.manage); a running command is stopped by its job. '
  'A finished build is a CONFLICT.';
revoke execute on function app_public.cancel_build(uuid) from public;
grant execute on function app_public.cancel_build(uuid) to :DATABASE_VISITOR;

-- The job's start: queued → running. A build a dead run left running is failed (its command's fate
-- is unknown; it is never run twice). Returns the build's status after the call (null: no build).
create function app_private.start_build(build_id uuid, out status text, out tenant_id uuid, out modules text[])
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  select * into v_build from app_public.builds b where b.id = start_build.build_id for update;
  if v_build.id is null then
    return;
  end if;
  if v_build.status = 'running' then
    perform app_private.add_build_lines(v_build.id, array['system'],
                                        array['build interrupted: the worker stopped while it ran']);
    update app_public.builds b set status = 'failed', finished_at = now()
      where b.id = v_build.id returning * into v_build;
  elsif v_build.status = 'queued' then
    update app_public.builds b set status = 'running', started_at = now()
      where b.id = v_build.id returning * into v_build;
  end if;
  status := v_build.status;
  tenant_id := v_build.tenant_id;
  modules := v_build.modules;
end;
$$;
comment on function app_private.start_build(uuid) is E'@module builds\n'
  'A run_build job starts: queued becomes running; a build left running by a dead run fails. Returns its status.';

create function app_private.append_build_log(build_id uuid, streams text[], texts text[]) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.add_build_lines(append_build_log.build_id, append_build_log.streams, append_build_log.texts);
  return (select b.status from app_public.builds b where b.id = append_build_log.build_id);
end;
$$;
comment on function app_private.append_build_log(uuid, text[], text[]) is E'@module builds\n'
  'Appends a job''s output lines to its build; returns the build''s status (cancelled: stop).';

create function app_private.build_status(build_id uuid) returns text
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select b.status from app_public.builds b where b.id = build_status.build_id;
$$;
comment on function app_private.build_status(uuid) is E'@module builds\nA build''s status (the job''s cancel check).';

create function app_private.finish_build(build_id uuid, outcome text, line text default null) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_build app_public.builds;
begin
  if finish_build.outcome not in ('succeeded', 'failed') then
    raise exception 'Unknown outcome %', finish_build.outcome using errcode = 'TVALD';
  end if;
  select * into v_build from app_public.builds b where b.id = finish_build.build_id for update;
  if v_build.id is null or v_build.status <> 'running' then
    return v_build.status;
  end if;
  if finish_build.line is not null then
    perform app_private.add_build_lines(v_build.id, array['system'], array[finish_build.line]);
  end if;
  update app_public.builds b set status = finish_build.outcome, finished_at = now()
    where b.id = v_build.id returning * into v_build;
  return v_build.status;
end;
$$;
comment on function app_private.finish_build(uuid, text, text) is E'@module builds\n'
  'Ends a running build (succeeded or failed, with a last system line); any other status is left as it is.';

--------------------------------------------------------------------------------------------------
-- Releases.

create table app_public.releases (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references app_public.tenants on delete cascade,
  build_id uuid not null,
  status text not null default 'active' check (status in ('active', 'superseded', 'rolled_back')),
  activated_by uuid,
  activated_at timestamptz not null default now(),
  superseded_at timestamptz,
  rolled_back_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, build_id) references app_public.builds (tenant_id, id) on delete cascade,
  foreign key (tenant_id, activated_by) references app_public.users (tenant_id, id) on delete set null (activated_by)
);
create unique index releases_one_active_idx on app_public.releases (tenant_id) where status = 'active';
create index releases_build_idx on app_public.releases (tenant_id, build_id);
create index releases_activated_by_idx on app_public.releases (tenant_id, activated_by);
create index releases_tenant_activated_idx on app_public.releases (tenant_id, activated_at desc);
comment on table app_public.releases is E'@module builds\n@behavior -insert -update -delete\n'
  'A succeeded build put live: at most one active release per tenant; earlier ones superseded or rolled back.';
comment on column app_public.releases.status is 'active, superseded (by a later activation) or rolled_back.';
comment on constraint releases_tenant_id_build_id_fkey on app_public.releases is
  E'@fieldName build\n@foreignFieldName releases';
comment on constraint releases_tenant_id_activated_by_fkey on app_public.releases is E'@behavior -*';
alter table app_public.releases enable row level security;
create policy select_builds_manage on app_public.releases for select to :DATABASE_VISITOR using (
  tenant_id = (select app_public.current_tenant_id()) and (select app_public.tenant_module_enabled('builds'))
  and (select app_public.current_user_has_permission('builds.manage')));
grant select on app_public.releases to :DATABASE_VISITOR;

-- One activation or rollback per tenant at a time (until the transaction ends).
create function app_private.lock_releases(tenant_id uuid) returns void
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  select pg_advisory_xact_lock(hashtext('app_public.releases'), hashtext(lock_releases.tenant_id::text));
$$;
comment on function app_private.lock_releases(uuid) is E'@module builds\n'
  'Takes the tenant''s release lock until the transaction ends (activations and rollbacks wait in turn).';

create function app_public.activate_release(build_id uuid) returns app_public.releases
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
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
  update app_public.releases r set status = 'superseded', superseded_at = now()
    where r.tenant_id = v_tenant and r.status = 'active';
  insert into app_public.releases (tenant_id, build_id, activated_by)
    values (v_tenant, v_build.id, app_public.current_user_id())
    returning * into v_release;
  return v_release;
end;
$$;
comment on function app_public.activate_release(uuid) is E'@module builds\n@resultFieldName release\n'
  'Makes a succeeded build of the caller''s tenant the active release, superseding the previous one (needs '
  'builds.manage; under the tenant''s release lock). Activating the active build again changes nothing.';
revoke execute on function app_public.activate_release(uuid) from public;
grant execute on function app_public.activate_release(uuid) to :DATABASE_VISITOR;

create function app_public.rollback_release() returns app_public.releases
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
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
  update app_public.releases r set status = 'rolled_back', rolled_back_at = now() where r.id = v_active.id;
  update app_public.releases r
    set status = 'active', superseded_at = null, activated_at = now(), activated_by = app_public.current_user_id()
    where r.id = v_previous.id returning * into v_previous;
  return v_previous;
end;
$$;
comment on function app_public.rollback_release() is E'@module builds\n@resultFieldName release\n'
  'Marks the active release rolled_back and re-activates the one it superseded (needs builds.manage; under '
  'the tenant''s release lock). No active or no previous release is a CONFLICT.';
revoke execute on function app_public.rollback_release() from public;
grant execute on function app_public.rollback_release() to :DATABASE_VISITOR;
