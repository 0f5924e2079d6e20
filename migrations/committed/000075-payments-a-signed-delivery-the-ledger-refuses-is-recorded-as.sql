--! Previous: sha1:38c61f1a4763a0ee87f2b8c03411ed2ef572ce73
--! Hash: sha1:72644dcb6a6fa403beab9cf0f7e513de41facace
--! Message: payments: a signed delivery the ledger refuses is recorded as refused

--! split: 090-payments.sql
-- A signed, well-formed delivery that a rule of the ledger refused (a deposit its balance can no
-- longer hold) is recorded as `refused`, not `malformed`: its body was fine.
alter table app_private.payment_webhooks drop constraint if exists payment_webhooks_outcome_check;
alter table app_private.payment_webhooks add constraint payment_webhooks_outcome_check check (outcome in (
  'processed', 'duplicate', 'invalid_signature', 'malformed', 'unknown_payment', 'amount_mismatch', 'refused', 'error'
));
