--! Previous: sha1:3ccc7c67cee072e2a1a854a0e6b14dd5f9b5513c
--! Hash: sha1:0f2f1e7a84e27689ef0e9293e67e0857cb703eaf
--! Message: Identity: an address longer than 254 characters once in lower case is refused on the email field

--! split: 030-identity.sql
-- An address that lower case makes longer than 254 characters is refused on its field (`email`), not
-- by the table's length check, whose name the error read as a field "emailLength".
create or replace function app_private.tg__nfc_email()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  -- Lower case can lengthen a text (U+0130 İ is two characters in lower case): an address checked at
  -- 254 characters may be longer once stored. Refused on the field, as any invalid address.
  if length(new.email) > 254 then
    raise exception 'An e-mail address has at most 254 characters' using errcode = 'TVALD', detail = '{"field":"email"}';
  end if;
  return new;
end;
$function$;
comment on function app_private.tg__nfc_email() is E'@module identity\n'
  'Stores the row''s e-mail address trimmed of Unicode spaces, in lower case (ICU''s when the server has it) and '
  'in Unicode NFC, as the services compare addresses; longer than 254 characters so, it is VALIDATION_FAILED '
  '(field email).';
