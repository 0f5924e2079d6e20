-- Rate limits are counted by the server before the work, in one statement per bucket
-- (src/auth/limits.ts: insert … on conflict do update … where hits < max returning hits), with a
-- clock tests can pin. The check-then-record helpers are no longer used.
drop function if exists app_private.rate_limit_retry_after(text, integer, interval);
drop function if exists app_private.rate_limit_hit(text, interval);
