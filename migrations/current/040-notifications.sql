--------------------------------------------------------------------------------------------------
-- 040-notifications: instant notifications, shown in the app and delivered live; written by the
-- modules that notify (events today).
--
-- A notification's recipient belongs to the notification's tenant: composite foreign key to users
-- (tenant_id, id), hidden from GraphQL (the recipient relation stays the one of recipient_id).

alter table app_public.instant_notifications
  drop constraint if exists instant_notifications_tenant_id_recipient_id_fkey;
alter table app_public.instant_notifications add constraint instant_notifications_tenant_id_recipient_id_fkey
  foreign key (tenant_id, recipient_id) references app_public.users (tenant_id, id) on delete cascade;
comment on constraint instant_notifications_tenant_id_recipient_id_fkey on app_public.instant_notifications is
  E'@behavior -*\nThe recipient belongs to the notification''s tenant.';
create index if not exists instant_notifications_tenant_recipient_idx
  on app_public.instant_notifications (tenant_id, recipient_id);
drop index if exists app_public.instant_notifications_tenant_idx;

do $$
begin
  if exists (select 1 from pg_policies p where p.schemaname = 'app_public'
             and p.tablename = 'instant_notifications' and p.policyname = 'select_own') then
    alter policy select_own on app_public.instant_notifications rename to select_self;
  end if;
end
$$;

comment on table app_public.instant_notifications is
  E'@module notifications\n@behavior -insert -update -delete\n'
  'A message to one user, shown in the app and delivered live.';
comment on function app_public.ack_notification(uuid) is
  E'@module notifications\n@resultFieldName notification\nMarks one of your notifications as read.';
comment on function app_public.ack_all_notifications() is
  E'@module notifications\n@resultFieldName acked\nMarks all your notifications as read; answers how many.';
comment on function app_public.unread_notifications_count() is
  E'@module notifications\nHow many of your notifications are unread.';
comment on function app_private.tg_instant_notifications__notify() is
  E'@module notifications\n'
  'Delivers a new notification live: NOTIFY user:<recipient>:notifications with its id.';
