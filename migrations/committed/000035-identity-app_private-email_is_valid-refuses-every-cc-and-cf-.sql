--! Previous: sha1:41e57cdf57e512fc7ac34c1eff708e32f09d131f
--! Hash: sha1:cadda1064c00c26d515e9faaec5b695302479acc
--! Message: Identity: app_private.email_is_valid refuses every Cc and Cf character, as registration's check does (its list missed tag characters and the rarer format controls)

--! split: 1-current.sql
-- Identity: app_private.email_is_valid refuses every character of Unicode's classes Cc and Cf, as
-- registration's check (\p{Cc}\p{Cf}) does; its list missed the Cf characters outside the common
-- ones (tag characters U+E0001 and U+E0020–E007F, U+110BD, musical and shorthand format controls…).
create or replace function app_private.email_is_valid(email citext) returns boolean
  language sql immutable parallel safe
  set search_path to pg_catalog, public, pg_temp
as $$
  select length(email) <= 254
    and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
    -- Controls (C0, DEL, C1) and every formatting character of Unicode's class Cf (Unicode 15).
    and email !~ ('[\x01-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e'
                  '\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd'
                  '\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]');
$$;
