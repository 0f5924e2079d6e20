--! Previous: sha1:f173178f96e74a4bda2e097ffb771800d2b0fa60
--! Hash: sha1:366f2c0f97617058c0e9c204949da83253fa54e3
--! Message: Identity: e-mail addresses are stored trimmed of Unicode spaces and in lower case beyond ASCII, whoever writes

--! split: 020-identity.sql
-- Identity: an e-mail address is stored the way the services compare it: trimmed of Unicode spaces,
-- in lower case and in NFC, whoever writes (createUser, init, seed). citext folds only ASCII letters
-- under the C collation, so `Ärger@x.test` and `ärger@x.test` were two accounts of one address, and a
-- no-break space around an address made a look-alike second one. Lower case is taken from ICU's root
-- locale when the server has it (as JavaScript's toLowerCase does); otherwise from the database's own.

create or replace function app_private.tg__nfc_email() returns trigger
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_email text;
begin
  if new.email is null then
    return new;
  end if;
  v_email := regexp_replace(new.email::text,
    '^[[:space:]\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|'
    '[[:space:]\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$', '', 'g');
  if exists (select 1 from pg_catalog.pg_collation where collname = 'und-x-icu') then
    execute 'select lower($1 collate "und-x-icu")' into v_email using v_email;
  else
    v_email := lower(v_email);
  end if;
  new.email := normalize(v_email, nfc);
  return new;
end;
$$;
comment on function app_private.tg__nfc_email() is '@module identity
Stores the row''s e-mail address trimmed of Unicode spaces, in lower case (ICU''s when the server has it) and in Unicode NFC, as the services compare addresses.';

-- Addresses stored before take the same form (setting email to itself runs the trigger), unless the
-- tenant already holds that form: such a pair stays two accounts, for an operator to settle.
do $$
declare
  v_id uuid;
begin
  for v_id in
    select u.id from app_public.users u
    where u.email::text ~ '[^\x01-\x7f]' or u.email::text <> lower(u.email::text)
       or u.email::text ~ '^[[:space:]]|[[:space:]]$'
  loop
    begin
      update app_public.users u set email = u.email where u.id = v_id;
    exception when unique_violation then
      null;
    end;
  end loop;
end;
$$;
