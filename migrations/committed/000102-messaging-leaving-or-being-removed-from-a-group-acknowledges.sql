--! Previous: sha1:0892f71347885b4dc621a215d9646c1709d62f1f
--! Hash: sha1:c64d8cb5a286ed975be93c3135df2ceeffd3d76f
--! Message: Messaging: leaving or being removed from a group acknowledges the chat's unread notification

--! split: 070-messaging.sql
-- A member who leaves a group chat or is removed from it has the chat's unread notification
-- acknowledged, as reading the chat would: it had stayed unread for good, counted in
-- unreadNotificationsCount and pointing at a chat they can no longer open.
create or replace function app_private.tg_chat_members__ack_notification() returns trigger
  language plpgsql
  security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  update app_public.instant_notifications n set acked_at = now()
    where n.recipient_id = old.user_id and n.kind = 'chat_message' and n.subject_id = old.chat_id
      and n.acked_at is null;
  return null;
end;
$$;
comment on function app_private.tg_chat_members__ack_notification() is '@module messaging
After a member leaves or is removed: their unread notification of the chat is acknowledged.';

drop trigger if exists _200_ack_notification on app_public.chat_members;
create trigger _200_ack_notification after delete on app_public.chat_members
  for each row execute function app_private.tg_chat_members__ack_notification();
