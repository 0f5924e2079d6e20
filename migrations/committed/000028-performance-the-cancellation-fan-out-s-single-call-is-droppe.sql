--! Previous: sha1:ede07c091aaeb985ffdf456e5eab616173738033
--! Hash: sha1:1af1479bd0258d0978cc89e795878c2041c087a8
--! Message: Performance: the cancellation fan-out's single CALL is dropped (measured worse for subscribers)

--! split: 1-current.sql
-- Performance, measured and undone: migration 000027's one CALL for a cancellation's whole fan-out
-- is dropped; the event_cancelled task calls each batch from the worker again. With 1,000
-- subscribers the CALL wrote the batches faster than the API could deliver them, so notifications
-- queued in the API: NOTIFY to client p99 doubled (median of 21 rounds, 74 against 36 ms; over
-- 100 ms in 6 rounds, against none), the median subscriber was told later (242 against 162 ms from
-- the mutation, 6 rounds each), and the last receipt moved within the noise (242 against 255 ms).

drop procedure if exists app_private.fan_out_event_cancellation(uuid, integer, integer);
