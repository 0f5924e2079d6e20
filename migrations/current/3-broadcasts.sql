-- Broadcasts: a bot's delivery jobs run one at a time (one graphile-worker queue per bot).
-- Telegram's rate limit is per bot, so the pace (BROADCASTS_MESSAGES_PER_SECOND) now holds for the
-- bot rather than per job, and a bot that Telegram asks to wait (429) holds one worker slot, not all.
create or replace function app_private.start_due_broadcasts(batch_size integer, max_broadcasts integer default 20)
  returns integer
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_broadcast app_public.broadcasts;
  v_started integer := 0;
  v_batches integer;
begin
  for v_broadcast in
    select * from app_public.broadcasts b
    where b.status = 'pending' and b.scheduled_at <= now()
    order by b.scheduled_at, b.id
    limit start_due_broadcasts.max_broadcasts
    for update skip locked
  loop
    update app_public.broadcasts b set status = 'sending', started_at = now() where b.id = v_broadcast.id;
    -- The audience: customers of the broadcast's tenant only, matching its filter.
    insert into app_public.broadcast_deliveries (tenant_id, broadcast_id, customer_id, chat_id, batch)
      select v_broadcast.tenant_id, v_broadcast.id, c.id, c.telegram_id,
             ((row_number() over (order by c.id)) - 1) / start_due_broadcasts.batch_size
      from app_public.customers c
      where c.tenant_id = v_broadcast.tenant_id
        and (not v_broadcast.audience ? 'language'
             or lower(split_part(c.language_code, '-', 1)) = v_broadcast.audience ->> 'language')
        and (not v_broadcast.audience ? 'hasPaidOrder'
             or (v_broadcast.audience -> 'hasPaidOrder')::boolean = exists (
                  select 1 from app_public.orders o
                  where o.tenant_id = c.tenant_id and o.customer_id = c.id and o.status in ('paid', 'fulfilled')))
      on conflict (broadcast_id, customer_id) do nothing;
    select coalesce(max(d.batch) + 1, 0) into v_batches
      from app_public.broadcast_deliveries d
      where d.tenant_id = v_broadcast.tenant_id and d.broadcast_id = v_broadcast.id;
    if v_batches = 0 then
      update app_public.broadcasts b set status = 'completed', completed_at = now() where b.id = v_broadcast.id;
    else
      -- One job per batch, keyed: this transaction makes them once (the broadcast is no longer pending).
      perform app_private.enqueue_job('broadcast_deliver',
                                      json_build_object('tenantId', v_broadcast.tenant_id,
                                                        'broadcastId', v_broadcast.id, 'batch', n),
                                      job_key => 'broadcast_deliver:' || v_broadcast.id || ':' || n,
                                      max_attempts => 10,
                                      queue_name => 'broadcasts_bot_' || v_broadcast.bot_id)
        from generate_series(0, v_batches - 1) n;
    end if;
    perform app_private.remove_job('broadcast_schedule:' || v_broadcast.id);
    v_started := v_started + 1;
  end loop;
  return v_started;
end;
$$;

-- A text of Unicode spaces or invisible characters only is as empty as one of spaces.
alter table app_public.broadcasts drop constraint if exists broadcasts_text_not_blank;
alter table app_public.broadcasts add constraint broadcasts_text_not_blank
  check (regexp_replace(text, '[\s\u00a0\u1680\u180e\u2000-\u200f\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]', '', 'g') <> '');
