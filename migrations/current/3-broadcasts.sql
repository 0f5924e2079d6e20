-- Broadcasts: a text of spaces only is refused (Telegram refuses empty messages: every delivery
-- would fail).
alter table app_public.broadcasts drop constraint if exists broadcasts_text_not_blank;
alter table app_public.broadcasts add constraint broadcasts_text_not_blank
  check (btrim(text, E' \t\r\n') <> '');
