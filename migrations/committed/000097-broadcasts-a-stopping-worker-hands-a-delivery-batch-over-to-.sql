--! Previous: sha1:2dedc29ba5bdc463171670f5d6eb5405946ee51e
--! Hash: sha1:652f412377ca80cab3732b9174a48fd032b51c49
--! Message: Broadcasts: a stopping worker hands a delivery batch over to a new job of the same key instead of waiting out a 429

--! split: 110-broadcasts.sql
-- A worker that stops hands a batch it was sending to a new job of the same key, on the bot's queue:
-- its pending deliveries are sent by the next worker at once, and the stopped run's attempt is not
-- counted. graphile-worker's add_job clears the key of the running job (and takes its retries away),
-- so the run ends, and its job completes, without a second sender of the batch.
create or replace function app_private.hand_over_broadcast_batch(broadcast_id uuid, batch integer, attempts_left integer)
  returns void language plpgsql set search_path to pg_catalog, public, pg_temp as $$
declare
  v_broadcast app_public.broadcasts;
begin
  select * into v_broadcast from app_public.broadcasts b where b.id = hand_over_broadcast_batch.broadcast_id;
  if v_broadcast.id is null then
    return;
  end if;
  perform app_private.enqueue_job('broadcast_deliver',
                                  json_build_object('tenantId', v_broadcast.tenant_id,
                                                    'broadcastId', v_broadcast.id,
                                                    'batch', hand_over_broadcast_batch.batch),
                                  job_key => 'broadcast_deliver:' || v_broadcast.id || ':' || hand_over_broadcast_batch.batch,
                                  max_attempts => greatest(hand_over_broadcast_batch.attempts_left, 1),
                                  queue_name => 'broadcasts_bot_' || v_broadcast.bot_id);
end;
$$;
comment on function app_private.hand_over_broadcast_batch(uuid, integer, integer) is '@module broadcasts
A delivery job stopped with its worker: a new job of the batch''s key on the bot''s queue, with the attempts left.';
revoke all on function app_private.hand_over_broadcast_batch(uuid, integer, integer) from public;
