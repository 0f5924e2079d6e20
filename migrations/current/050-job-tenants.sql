-- 050-job-tenants: the e-mails that identity and events send from outside a request carry their
-- tenant too (payload tenantId), so a tenant's owners and admins see their own e-mail jobs in
-- failedJobs / lockedJobs. Bodies as before, plus the tenant in each send_email payload.

create or replace function app_private.issue_registration(
  tenant_id uuid, email citext, username citext, full_name text, password_hash text,
  token_hash bytea, code_hash bytea, code text, ttl interval
) returns text
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.email = issue_registration.email) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'registration_exists', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id));
    return 'email_taken';
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = issue_registration.tenant_id and u.username = issue_registration.username) then
    return 'username_taken';
  end if;
  insert into app_private.registrations (tenant_id, email, username, full_name, password_hash, token_hash, code_hash, expires_at)
    values (issue_registration.tenant_id, issue_registration.email, issue_registration.username, issue_registration.full_name,
            issue_registration.password_hash, issue_registration.token_hash, issue_registration.code_hash, now() + issue_registration.ttl);
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'registration_code', 'to', issue_registration.email, 'tenantId', issue_registration.tenant_id,
    'data', json_build_object('code', issue_registration.code, 'minutes', extract(epoch from issue_registration.ttl)::integer / 60)));
  return 'issued';
end;
$$;

create or replace function app_private.set_password(user_id uuid, password_hash text, keep_session_id uuid, reason text) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
  v_tenant uuid;
begin
  insert into app_private.user_secrets as s (user_id, password_hash, password_changed_at)
    values (set_password.user_id, set_password.password_hash, now())
    on conflict on constraint user_secrets_pkey do update set password_hash = excluded.password_hash, password_changed_at = now();
  perform app_private.revoke_sessions(set_password.user_id, set_password.reason, set_password.keep_session_id);
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = set_password.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'password_changed', 'to', v_email, 'tenantId', v_tenant));
end;
$$;

create or replace function app_private.issue_password_reset(tenant_id uuid, email citext, token_hash bytea, token text, ttl interval) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_user_id uuid;
begin
  select u.id into v_user_id from app_public.users u
    where u.tenant_id = issue_password_reset.tenant_id and u.email = issue_password_reset.email and u.deleted_at is null and not u.is_system;
  if v_user_id is null then
    return;
  end if;
  insert into app_private.password_resets (user_id, token_hash, expires_at)
    values (v_user_id, issue_password_reset.token_hash, now() + issue_password_reset.ttl);
  perform app_private.enqueue_job('send_email', json_build_object(
    'template', 'password_reset', 'to', issue_password_reset.email, 'tenantId', issue_password_reset.tenant_id,
    'data', json_build_object('token', issue_password_reset.token, 'minutes', extract(epoch from issue_password_reset.ttl)::integer / 60)));
end;
$$;

create or replace function app_private.enable_two_factor(user_id uuid, step bigint, recovery_code_hashes bytea[]) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
  v_tenant uuid;
begin
  update app_private.user_secrets s
    set totp_secret = s.totp_pending_secret, totp_pending_secret = null, totp_enabled_at = now(), totp_last_step = enable_two_factor.step
    where s.user_id = enable_two_factor.user_id and s.totp_pending_secret is not null;
  if not found then
    return false;
  end if;
  delete from app_private.recovery_codes c where c.user_id = enable_two_factor.user_id;
  insert into app_private.recovery_codes (user_id, code_hash) select enable_two_factor.user_id, h from unnest(enable_two_factor.recovery_code_hashes) h;
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = enable_two_factor.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'two_factor_enabled', 'to', v_email, 'tenantId', v_tenant));
  return true;
end;
$$;

create or replace function app_private.disable_two_factor(user_id uuid) returns void
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email citext;
  v_tenant uuid;
begin
  update app_private.user_secrets s set totp_secret = null, totp_pending_secret = null, totp_enabled_at = null, totp_last_step = null
    where s.user_id = disable_two_factor.user_id;
  delete from app_private.recovery_codes c where c.user_id = disable_two_factor.user_id;
  select u.email, u.tenant_id into v_email, v_tenant from app_public.users u where u.id = disable_two_factor.user_id;
  perform app_private.enqueue_job('send_email', json_build_object('template', 'two_factor_disabled', 'to', v_email, 'tenantId', v_tenant));
end;
$$;

create or replace function app_private.send_event_reminder(participant_id uuid) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_user app_public.users;
  v_participant app_public.event_participants;
begin
  update app_public.event_participants p set reminder_queued_at = now()
    where p.id = send_event_reminder.participant_id and p.reminder_queued_at is null and p.status = 'PARTICIPATING'
    returning * into v_participant;
  if v_participant.id is null then
    return false;
  end if;
  select * into v_event from app_public.events e where e.id = v_participant.event_id;
  select * into v_user from app_public.users u where u.id = v_participant.user_id;
  if v_event.rejected_at is not null or v_user.deleted_at is not null then
    return false;
  end if;
  insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, cta_url, cta_label, subject_id)
    values (v_event.tenant_id, v_user.id, 'event_reminder', 'Reminder: ' || v_event.name,
            v_event.name || ' starts at ' || to_char(v_event.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
              || coalesce(' at ' || v_event.location, '') || '.',
            '/events/' || v_event.id, 'Open event', v_event.id)
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing;
  if not found then
    return false;
  end if;
  if app_private.events_email_enabled(v_event.tenant_id) then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'event_reminder', 'to', v_user.email, 'tenantId', v_event.tenant_id,
      'data', json_build_object('name', v_event.name, 'startsAt', v_event.starts_at, 'location', v_event.location)));
  end if;
  return true;
end;
$$;

create or replace function app_private.notify_event_cancelled(event_id uuid, after_user_id uuid, batch_size integer) returns uuid
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_event app_public.events;
  v_last uuid;
  v_recipients text[];
  v_participants uuid[];
begin
  select * into v_event from app_public.events e where e.id = notify_event_cancelled.event_id;
  with batch as (
    select p.id as participant_id, u.id as user_id, u.email
    from app_public.event_participants p join app_public.users u on u.id = p.user_id
    where p.event_id = v_event.id and p.status = 'PARTICIPATING' and u.deleted_at is null
      and (notify_event_cancelled.after_user_id is null or u.id > notify_event_cancelled.after_user_id)
    order by u.id
    limit notify_event_cancelled.batch_size
  ), notified as (
    -- A retried batch finds its notifications already there and e-mails nobody twice.
    insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content, subject_id)
    select v_event.tenant_id, b.user_id, 'event_cancelled', 'Cancelled: ' || v_event.name,
           v_event.name || ' has been cancelled' || coalesce(': ' || v_event.rejection_reason, '.'), v_event.id
    from batch b
    on conflict (recipient_id, kind, subject_id) where subject_id is not null do nothing
    returning recipient_id
  )
  select max(b.user_id::text)::uuid,
         array_agg(b.email order by b.user_id) filter (where b.user_id in (select recipient_id from notified)),
         array_agg(b.participant_id)
    into v_last, v_recipients, v_participants
  from batch b;
  if v_last is null then
    return null;
  end if;
  perform app_private.remove_job('event_reminder:' || participant_id) from unnest(v_participants) as participant_id;
  if app_private.events_email_enabled(v_event.tenant_id) and cardinality(v_recipients) > 0 then
    perform app_private.enqueue_job('send_email', json_build_object('template', 'event_cancelled', 'to', v_recipients, 'tenantId', v_event.tenant_id,
      'data', json_build_object('name', v_event.name, 'reason', v_event.rejection_reason)),
      job_key => 'event_cancelled_email:' || v_event.id || ':' || v_last);
  end if;
  return v_last;
end;
$$;
