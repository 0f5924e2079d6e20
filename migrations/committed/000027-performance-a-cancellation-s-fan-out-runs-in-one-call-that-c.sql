--! Previous: sha1:17deb920645befc45b3cca1bb96b2f0a4a5183a7
--! Hash: sha1:ede07c091aaeb985ffdf456e5eab616173738033
--! Message: Performance: a cancellation's fan-out runs in one CALL that commits each batch

--! split: 1-current.sql
-- Performance: a cancellation's fan-out runs in the database, one committed transaction a batch.
-- The event_cancelled task used to call notify_event_cancelled once a batch and wait for each answer
-- in the worker's process; that process also delivers the batch's notifications to the API's
-- subscribers, so the next batch waited behind the deliveries of the last one. A procedure commits
-- each batch (its notifications go out at that commit) and starts the next at once.
-- A procedure with a SET clause cannot commit, so this one has none: every name in it is qualified.

create or replace procedure app_private.fan_out_event_cancellation(
  event_id uuid, batch_size integer, removal_batch_size integer
)
  language plpgsql
as $$
declare
  v_after uuid;
begin
  loop
    v_after := app_private.notify_event_cancelled(fan_out_event_cancellation.event_id, v_after,
                                                  fan_out_event_cancellation.batch_size);
    commit;
    exit when v_after is null;
  end loop;
  loop
    v_after := app_private.remove_event_reminders(fan_out_event_cancellation.event_id, v_after,
                                                  fan_out_event_cancellation.removal_batch_size);
    commit;
    exit when v_after is null;
  end loop;
end;
$$;
comment on procedure app_private.fan_out_event_cancellation(uuid, integer, integer) is
  E'@module events\n'
  'Tells every participant of a cancelled event, a batch of batch_size per committed transaction '
  '(notify_event_cancelled), then removes their reminder jobs the same way (remove_event_reminders). '
  'Must be called outside a transaction block. Safe to run again: a participant already told is skipped.';
