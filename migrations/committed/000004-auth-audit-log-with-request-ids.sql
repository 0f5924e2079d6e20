--! Previous: sha1:1d4359e62ab5674cc94a907ff115799416383e21
--! Hash: sha1:d05a5d3ae7aaeb7656532f65e6fdad012d968b4f
--! Message: auth audit log with request ids

-- Idempotent while in development.
drop table if exists app_private.auth_events cascade;

-- What happened to whom, from where, under which request id (the API's X-Request-Id): the trail an
-- operator follows from a log line or a user's complaint to the database and back.
create table app_private.auth_events (
  id bigint generated always as identity primary key,
  type text not null check (type ~ '^[a-z][a-z_]*$'),
  tenant_id uuid,
  user_id uuid,
  ip inet,
  user_agent text,
  request_id text,
  details jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index auth_events_user_idx on app_private.auth_events (user_id, created_at);
create index auth_events_request_idx on app_private.auth_events (request_id);
create index auth_events_created_idx on app_private.auth_events (created_at);
comment on table app_private.auth_events is 'Audit log of identity events (logins, failures, token reuse, password and 2FA changes) with request ids.';
