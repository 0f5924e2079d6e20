--! Previous: sha1:97dd86f332638157f123dc03ca3d6b691176b047
--! Hash: sha1:f173178f96e74a4bda2e097ffb771800d2b0fa60
--! Message: Identity: e-mail addresses are stored in Unicode NFC, so canonically equivalent spellings are one address

--! split: 020-identity.sql
-- Identity: an e-mail address is stored in Unicode NFC. "ü" written as one code point (NFC) and as
-- "u" with a combining diaeresis (NFD) look the same and are the same address to a reader; stored
-- as given, they made two accounts of one address in a tenant, a registration of a taken address
-- answered as a free one, and per-address limits counted each form apart. The services normalise
-- what they read; this trigger covers every other writer (createUser, init, seed).

create or replace function app_private.tg__nfc_email() returns trigger
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.email is not null and new.email::text is not nfc normalized then
    new.email := normalize(new.email::text, nfc);
  end if;
  return new;
end;
$$;
comment on function app_private.tg__nfc_email() is '@module identity
Stores the row''s e-mail address in Unicode NFC, so that canonically equivalent spellings are one address.';

drop trigger if exists _040_nfc_email on app_public.users;
create trigger _040_nfc_email before insert or update of email on app_public.users
  for each row execute function app_private.tg__nfc_email();
drop trigger if exists _040_nfc_email on app_private.registrations;
create trigger _040_nfc_email before insert or update of email on app_private.registrations
  for each row execute function app_private.tg__nfc_email();

-- Addresses stored before: normalised, unless the tenant already holds the NFC spelling (that pair
-- stays two accounts, for an operator to settle).
update app_public.users u
  set email = normalize(u.email::text, nfc)
  where u.email::text is not nfc normalized
    and not exists (
      select 1 from app_public.users o
      where o.tenant_id = u.tenant_id and o.email = normalize(u.email::text, nfc)::citext
    );
update app_private.registrations
  set email = normalize(email::text, nfc)
  where email::text is not nfc normalized;
