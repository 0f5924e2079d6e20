--! Previous: sha1:cf2a36ce81e56db82944d03a4bb05821e42ac45a
--! Hash: sha1:0892f71347885b4dc621a215d9646c1709d62f1f
--! Message: Identity: failed logins and reset requests from a known sign-in address have buckets of their own

--! split: 020-identity.sql
-- A client address is known for a user when a session of theirs began from it: within 90 days,
-- since their password last changed, and not one revoked as stolen. Failed logins from a known
-- address are counted in a bucket of that user and address, apart from the account's own, so that
-- someone guessing at an account from elsewhere cannot lock its owner out of it.
create or replace function app_private.known_sign_in_address(user_id uuid, address inet) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select exists (
    select 1
    from app_private.sessions s
      left join app_private.user_secrets u on u.user_id = s.user_id
    where s.user_id = known_sign_in_address.user_id
      and s.ip = known_sign_in_address.address
      and s.created_at > now() - interval '90 days'
      and s.created_at >= coalesce(u.password_changed_at, '-infinity')
      and s.revoked_reason is distinct from 'refresh_token_reused'
  );
$$;
comment on function app_private.known_sign_in_address(uuid, inet) is '@module identity
Whether a session of the user began from the address within 90 days, since their password last changed, and was not revoked as stolen (false for a null address).';

-- The same for the user an e-mail names in a tenant (forgotten passwords); false when none does.
create or replace function app_private.known_reset_address(tenant_id uuid, email citext, address inet) returns boolean
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce((
    select app_private.known_sign_in_address(u.id, known_reset_address.address)
    from app_public.users u
    where u.tenant_id = known_reset_address.tenant_id and u.email = known_reset_address.email
      and u.deleted_at is null and not u.is_system
  ), false);
$$;
comment on function app_private.known_reset_address(uuid, citext, inet) is '@module identity
Whether the address is a known sign-in address of the user the e-mail names in the tenant (known_sign_in_address); false when it names none.';
