--! Previous: sha1:b7bcc2f22b8d9dadfe336d049875489d2b4ac43f
--! Hash: sha1:16cf0f1bbd4b3f611a1e3a34b9a4ac86b5656f68
--! Message: Subscriptions: an id the provider already gave another of our subscriptions is refused (two customers would share one account)

--! split: 100-subscriptions.sql
-- A provider's subscription belongs to one of ours. An id the provider already gave another of our
-- subscriptions is refused: two customers would share one account, each told it is theirs. The job
-- fails with a message that names neither id (the other may be another tenant's); its retries ask
-- again (the provider may have mended it), and an admin sees it among the failed jobs.
create index if not exists subscriptions_provider_subscription_id_idx
  on app_public.subscriptions (provider_subscription_id);
-- The index makes the column a GraphQL condition (an admin finds the subscription the provider names)
-- and an order; not an order: it spans every tenant, so a page of one ordered by it could read them all.
comment on column app_public.subscriptions.provider_subscription_id is E'@behavior -orderBy\n'
  'The provider''s id of this subscription, once issued; one subscription of ours each.';

create or replace function app_private.record_issued_subscription(subscription_id uuid, provider_subscription_id text,
                                                                  expires_at timestamptz, sealed text) returns boolean
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if exists (select 1 from app_public.subscriptions s
             where s.provider_subscription_id = record_issued_subscription.provider_subscription_id
               and s.id <> record_issued_subscription.subscription_id) then
    raise exception 'Contms answered with the id of a subscription it issued for another of ours; not stored';
  end if;
  insert into app_private.subscription_credentials (subscription_id, sealed)
    values (record_issued_subscription.subscription_id, record_issued_subscription.sealed)
    on conflict do nothing;
  update app_public.subscriptions s
    set status = 'active', provider_subscription_id = record_issued_subscription.provider_subscription_id,
        expires_at = record_issued_subscription.expires_at, issued_at = now()
    where s.id = record_issued_subscription.subscription_id and s.status <> 'active';
  return found;
end;
$$;
