--------------------------------------------------------------------------------------------------
-- notifications: the NOTIFY of a new notification carries the row itself, so `notificationAdded`
-- answers every subscriber from the message instead of reading the row back once per subscriber.
-- A row whose message would not fit PostgreSQL's payload limit (8000 bytes) is sent as its id
-- alone and read back under RLS as before.

drop function if exists app_hidden.instant_notification_json(app_public.instant_notifications);
create function app_hidden.instant_notification_json(n app_public.instant_notifications) returns json
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  -- Each value as PostGraphile reads the column (timestamptz through to_char in its format), so
  -- an answer built from this object is the answer a read of the row gives.
  select json_build_object(
    'id', n.id,
    'tenant_id', n.tenant_id,
    'recipient_id', n.recipient_id,
    'kind', n.kind,
    'title', n.title,
    'content', n.content,
    'cta_url', n.cta_url,
    'cta_label', n.cta_label,
    'subject_id', n.subject_id,
    'acked_at', to_char(n.acked_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'),
    'created_at', to_char(n.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM')
  );
$$;
comment on function app_hidden.instant_notification_json(app_public.instant_notifications) is
  E'@module notifications\n'
  'A notification as the JSON object notificationAdded answers from: attribute names, PostGraphile''s text forms.';
grant execute on function app_hidden.instant_notification_json(app_public.instant_notifications) to :DATABASE_VISITOR;

create or replace function app_private.tg_instant_notifications__notify() returns trigger
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_payload text := json_build_object('id', new.id, 'row', app_hidden.instant_notification_json(new))::text;
begin
  -- pg_notify refuses a payload of 8000 bytes or more.
  if octet_length(v_payload) >= 8000 then
    v_payload := json_build_object('id', new.id)::text;
  end if;
  perform pg_notify('user:' || new.recipient_id::text || ':notifications', v_payload);
  return null;
end;
$$;
comment on function app_private.tg_instant_notifications__notify() is
  E'@module notifications\n'
  'Delivers a new notification live: NOTIFY user:<recipient>:notifications with the row '
  '(instant_notification_json), or its id alone when the row would not fit the 8000-byte payload limit.';
