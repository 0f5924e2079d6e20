--! Previous: sha1:4d7be2e07bc3dc8e70b87c9bdcc5e7e2d5f1baac
--! Hash: sha1:bea7ef08d2aebdce9de00b8a6e0205fd0399daea
--! Message: Reliability: finite event times, bounded search text, required SQL arguments, worker liveness and per-recipient e-mail deliveries, failed jobs from the first failure, idempotent refresh rotation, capacity never below participants

--! split: 100-errors.sql
-- Errors that tell the truth: values PostgreSQL accepts but no client means are refused at the
-- door, with a code the error table turns into VALIDATION_FAILED.

-- 'infinity' and '-infinity' are valid timestamptz values; an event that starts or ends at
-- infinity cannot be shown, reminded of or ordered sensibly.
alter table app_public.events drop constraint if exists events_times_finite;
alter table app_public.events add constraint events_times_finite check (isfinite(starts_at) and isfinite(ends_at));

-- A text search longer than a search box can hold only costs: 45,000 words overflow the
-- tsquery parser's stack. The guard mentions no column, so PostgreSQL evaluates it once, before
-- scanning (a one-time filter), and search_events stays a single inlinable SELECT.
drop function if exists app_public.search_events(text, timestamptz, timestamptz, boolean);
drop function if exists app_hidden.assert_search_text(text);
create function app_hidden.assert_search_text(search text) returns boolean
  language plpgsql immutable
as $$
begin
  if length(search) > 256 then
    raise exception 'The search text is longer than 256 characters' using errcode = 'TVALD', detail = '{"field":"search"}';
  end if;
  return true;
end;
$$;
comment on function app_hidden.assert_search_text(text) is 'True for a search text of at most 256 characters; raises VALIDATION_FAILED otherwise.';
grant execute on function app_hidden.assert_search_text(text) to :DATABASE_VISITOR;

create function app_public.search_events(
  search text default null, starts_after timestamptz default null, starts_before timestamptz default null, upcoming boolean default false
) returns setof app_public.events
  language sql stable
as $$
  select e.* from app_public.events e
  where app_hidden.assert_search_text(search_events.search)
    and (search_events.search is null or to_tsvector('simple', e.name || ' ' || coalesce(e.short_description, '') || ' ' || coalesce(e.description, ''))
           @@ websearch_to_tsquery('simple', search_events.search)
         or e.name ilike '%' || search_events.search || '%')
    and (search_events.starts_after is null or e.starts_at >= search_events.starts_after)
    and (search_events.starts_before is null or e.starts_at < search_events.starts_before)
    and (not coalesce(search_events.upcoming, false) or e.starts_at > now())
$$;
comment on function app_public.search_events(text, timestamptz, timestamptz, boolean) is
  E'@behavior +order +filter\nEvents matching a text search (name and descriptions, at most 256 characters), a start range, and/or only upcoming ones.';
grant execute on function app_public.search_events(text, timestamptz, timestamptz, boolean) to :DATABASE_VISITOR;

-- SQL arguments without a default are required in GraphQL (pgStrictFunctions); a full name is
-- optional, so create_user says so with a default.
create or replace function app_public.create_user(email citext, username citext, full_name text default null, roles text[] default array['member']) returns app_public.users
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_found int;
begin
  if app_public.current_user_id() is null then
    raise exception 'Sign in to create users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Creating users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = app_public.current_tenant_id() and u.email = create_user.email) then
    raise exception 'That e-mail is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"EMAIL_TAKEN"}';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = app_public.current_tenant_id() and u.username = create_user.username) then
    raise exception 'That username is already used in this tenant' using errcode = 'TCONF', detail = '{"reason":"USERNAME_TAKEN"}';
  end if;
  insert into app_public.users (tenant_id, email, username, full_name)
    values (app_public.current_tenant_id(), create_user.email, create_user.username, create_user.full_name)
    returning * into v_user;
  insert into app_public.user_roles (user_id, role_id)
    select v_user.id, r.id from app_public.roles r
    where r.tenant_id = app_public.current_tenant_id() and r.name = any(create_user.roles);
  get diagnostics v_found = row_count;
  if v_found <> cardinality(array(select distinct unnest(create_user.roles))) then
    raise exception 'Unknown role in %', create_user.roles using errcode = 'TVALD', detail = '{"field":"roles"}';
  end if;
  insert into app_private.user_secrets (user_id) values (v_user.id);
  return v_user;
end;
$$;

--! split: 200-worker.sql
-- 200-worker: work in progress for the next committed migration (idempotent; re-run by `npm run db -- watch` and by the test setup).

-- Worker liveness. graphile-worker records the pool that holds a job in jobs.locked_by and only
-- frees a dead pool's locks after 4 hours. Each worker pool of ours registers here under that same
-- id and beats every WORKER_HEARTBEAT_SECONDS; any live worker releases the jobs of pools whose
-- heartbeat is older than WORKER_STALE_SECONDS (src/worker/liveness.ts).
create table if not exists app_private.worker_pools (
  id text primary key,
  label text not null,
  hostname text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  beat_at timestamptz not null default now()
);
comment on table app_private.worker_pools is
  'Live graphile-worker pools (id = jobs.locked_by) and their last heartbeat; a stale one is presumed dead and its jobs are released.';

drop function if exists app_private.release_dead_workers(interval);
create function app_private.release_dead_workers(stale_after interval) returns integer
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
    from graphile_worker._private_jobs j
    where j.locked_by like 'pool-%' and j.locked_at < now() - release_dead_workers.stale_after
      and not exists (select 1 from app_private.worker_pools w where w.id = j.locked_by);
  if cardinality(v_dead) = 0 then
    return 0;
  end if;
  select count(*)::integer into v_jobs from graphile_worker._private_jobs j where j.locked_by = any(v_dead);
  perform graphile_worker.force_unlock_workers(v_dead);
  delete from app_private.worker_pools w where w.id = any(v_dead);
  return v_jobs;
end;
$$;
comment on function app_private.release_dead_workers(interval) is
  'Releases the jobs (and named queues) of worker pools whose heartbeat is older than stale_after; returns how many jobs were released.';

-- One row per (send_email job, recipient) once the SMTP server accepted (or permanently refused)
-- the message: a retried or re-run job skips them, so nobody gets a message twice. message_id is
-- the Message-ID header, stable per job and recipient.
create table if not exists app_private.email_deliveries (
  message_id text primary key,
  job_id bigint not null,
  template text not null,
  outcome text not null check (outcome in ('sent', 'rejected')),
  detail text,
  delivered_at timestamptz not null default now()
);
create index if not exists email_deliveries_job_id_idx on app_private.email_deliveries (job_id);
comment on table app_private.email_deliveries is
  'Messages of send_email jobs already accepted (or permanently refused) by the SMTP server, keyed by Message-ID; rows go when their job is gone.';

drop function if exists app_private.cleanup_email_deliveries();
create function app_private.cleanup_email_deliveries() returns integer
  language sql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
  -- A finished job's rows are never read again (job ids are not reused).
  with deleted as (
    delete from app_private.email_deliveries d
    where not exists (select 1 from graphile_worker._private_jobs j where j.id = d.job_id)
    returning 1
  )
  select count(*)::integer from deleted
$$;
comment on function app_private.cleanup_email_deliveries() is 'Deletes the delivery records of send_email jobs that no longer exist.';

-- Failing jobs are visible from their first failure, not only once out of attempts (25 attempts
-- of exponential backoff take about 4 days): run_at is the next attempt.
create or replace function app_public.failed_jobs() returns setof app_public.job_info
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.assert_jobs_manager();
  return query
    select j.id, j.task_identifier, j.queue_name, j.attempts::integer, j.max_attempts::integer, j.last_error, j.run_at,
           j.locked_at, j.locked_by, j.key, j.created_at
    from graphile_worker.jobs j where j.last_error is not null order by j.id;
end;
$$;
comment on function app_public.failed_jobs() is
  'Jobs that failed at least once: retrying (runAt = next attempt; attempts < maxAttempts) or out of attempts (needs jobs.manage).';

--! split: 300-identity.sql
-- 300-identity: work in progress for the next committed migration (idempotent; re-run by `npm run db -- watch` and by the test setup).

-- Rotates a refresh token. Status: ok | invalid | reused. The service derives new_token_hash from
-- the presented token (an HMAC under the server secret), so presenting one token again always
-- names the same successor. Concurrent presentations queue on the token's row lock: the first
-- rotates, the others find it rotated within grace_period with that very successor still unused,
-- and answer ok with the same session — one rotation, every presenter the same new token. A
-- rotated token presented after grace_period, or once its successor was used, revokes the whole
-- session (RFC 9700 §4.14.2).
create or replace function app_private.rotate_refresh_token(
  token_hash bytea, new_token_hash bytea, grace_period interval,
  out status text, out session_id uuid, out user_id uuid, out tenant_id uuid
)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_token app_private.refresh_tokens;
  v_session app_private.sessions;
  v_child app_private.refresh_tokens;
begin
  select * into v_token from app_private.refresh_tokens t where t.token_hash = rotate_refresh_token.token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  select * into v_session from app_private.sessions s where s.id = v_token.session_id for update;
  if v_session.revoked_at is not null or v_session.expires_at <= now()
     or exists (select 1 from app_public.users u where u.id = v_session.user_id and u.deleted_at is not null) then
    status := 'invalid';
    return;
  end if;
  if v_token.rotated_at is not null then
    select * into v_child from app_private.refresh_tokens t where t.parent_id = v_token.id;
    if v_token.rotated_at > now() - rotate_refresh_token.grace_period
       and v_child.token_hash = rotate_refresh_token.new_token_hash and v_child.rotated_at is null then
      -- The same presentation again (concurrent, or a retry of a lost answer): the same successor.
      status := 'ok';
    else
      update app_private.sessions s set revoked_at = now(), revoked_reason = 'refresh_token_reused' where s.id = v_session.id;
      status := 'reused';
      return;
    end if;
  else
    update app_private.refresh_tokens t set rotated_at = now() where t.id = v_token.id;
    insert into app_private.refresh_tokens (session_id, token_hash, parent_id)
      values (v_session.id, rotate_refresh_token.new_token_hash, v_token.id);
    update app_private.sessions s set last_refreshed_at = now() where s.id = v_session.id;
    status := 'ok';
  end if;
  session_id := v_session.id;
  user_id := v_session.user_id;
  tenant_id := v_session.tenant_id;
end;
$$;

--! split: 400-events.sql
-- 400-events: work in progress for the next committed migration (idempotent; re-run by `npm run db -- watch` and by the test setup).

-- A capacity below the current number of participants would leave the event over-full: refused
-- with CONFLICT (details.reason CAPACITY_BELOW_PARTICIPANTS). The event row is locked FOR UPDATE
-- before counting, the same lock and order as join_event: a join and a capacity change of one
-- event are serialised, so no join can slip in between the count and the update.
create or replace function app_public.update_event(
  event_id uuid, name text default null, starts_at timestamptz default null, ends_at timestamptz default null,
  short_description text default null, description text default null, location text default null, image text default null,
  payment_info text default null, max_participants_count integer default null
) returns app_public.events
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_participants integer;
begin
  perform app_private.assert_events_access('events.manage');
  select * into v_event from app_public.events e
    where e.id = update_event.event_id and e.tenant_id = app_public.current_tenant_id()
    for update;
  if not found then
    raise exception 'No such event' using errcode = 'TNFND';
  end if;
  if update_event.max_participants_count is not null then
    select count(*)::integer into v_participants from app_public.event_participants p
      where p.event_id = v_event.id and p.status = 'PARTICIPATING';
    if update_event.max_participants_count < v_participants then
      raise exception 'The event already has % participants: its capacity cannot be lower', v_participants
        using errcode = 'TCONF',
              detail = json_build_object('reason', 'CAPACITY_BELOW_PARTICIPANTS', 'participantsCount', v_participants,
                                         'maxParticipantsCount', update_event.max_participants_count)::text;
    end if;
  end if;
  update app_public.events e set
    name = coalesce(update_event.name, e.name),
    starts_at = coalesce(update_event.starts_at, e.starts_at),
    ends_at = coalesce(update_event.ends_at, e.ends_at),
    short_description = coalesce(update_event.short_description, e.short_description),
    description = coalesce(update_event.description, e.description),
    location = coalesce(update_event.location, e.location),
    image = coalesce(update_event.image, e.image),
    payment_info = coalesce(update_event.payment_info, e.payment_info),
    max_participants_count = coalesce(update_event.max_participants_count, e.max_participants_count)
  where e.id = v_event.id
  returning * into v_event;
  return v_event;
end;
$$;
comment on function app_public.update_event(uuid, text, timestamptz, timestamptz, text, text, text, text, text, integer) is
  E'@resultFieldName event\nChanges an event (needs events.manage); omitted fields keep their value. Moving it moves the reminders. A capacity below the current number of participants is refused (CONFLICT, details.reason CAPACITY_BELOW_PARTICIPANTS).';
