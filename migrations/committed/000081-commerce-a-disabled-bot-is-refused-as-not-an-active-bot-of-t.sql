--! Previous: sha1:56f2b8f133ba27bbd46b26a036716891a05c3c76
--! Hash: sha1:2655f9fc6400e4a36ca4aaff106044140294e988
--! Message: commerce: a disabled bot is refused as not an active bot of the key's tenant

--! split: 070-commerce.sql
-- A disabled bot is refused with the words the in-transaction check uses (000079): "not an active
-- bot of this key's tenant", not "not one of this key's tenant".
create or replace function app_private.authenticate_bot_request(secret_hash bytea, service_tenant text, bot_id uuid, max_hits integer, window_seconds integer, at_time timestamp with time zone, OUT tenant_id uuid, OUT api_key_id uuid, OUT retry_after integer)
 RETURNS record
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_hits integer;
begin
  if authenticate_bot_request.service_tenant is not null then
    select t.id into tenant_id from app_public.tenants t where t.slug = authenticate_bot_request.service_tenant;
  else
    select k.tenant_id, k.id into tenant_id, api_key_id
      from app_private.api_key_secrets s join app_public.api_keys k on k.id = s.api_key_id
      where s.secret_hash = authenticate_bot_request.secret_hash and k.revoked_at is null;
  end if;
  if tenant_id is null then
    raise exception 'The API key is not valid' using errcode = 'TAUTH';
  end if;
  if not app_private.tenant_module_enabled(tenant_id, 'commerce')
     or not exists (select 1 from app_public.tenants t
                    where t.id = authenticate_bot_request.tenant_id and t.status = 'active') then
    raise exception 'The commerce module is switched off for this tenant' using errcode = 'TFORB';
  end if;
  select r.hits, r.retry_after into v_hits, retry_after
    from app_private.take_rate_limit('bot-key:' || coalesce(api_key_id::text, 'service'), max_hits, window_seconds,
                                     at_time) r;
  if v_hits is null then
    return;
  end if;
  retry_after := null;
  if not exists (select 1 from app_public.bots b
                 where b.id = authenticate_bot_request.bot_id and b.tenant_id = authenticate_bot_request.tenant_id
                   and b.status = 'active') then
    raise exception 'The bot is not an active bot of this key''s tenant' using errcode = 'TFORB';
  end if;
  update app_public.api_keys k set last_used_at = now()
    where k.id = authenticate_bot_request.api_key_id and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
end;
$function$;
comment on function app_private.authenticate_bot_request(bytea,text,uuid,integer,integer,timestamp with time zone) is '@module commerce
Verifies a bot request''s API key (UNAUTHENTICATED) and bot (FORBIDDEN), takes one unit of the key''s rate limit (retry_after set when the window is full; at_time null: now) and notes when the key was last used.';
