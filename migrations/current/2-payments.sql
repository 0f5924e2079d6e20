-- Payments: the bot functions belong to the bot role only (app_hidden's default grant gave them to
-- the visitor too; they refused it, being bot-only, but a request role should not even call them).
revoke execute on function
  app_hidden.bot_start_payment(uuid, bigint, numeric, text),
  app_hidden.bot_set_webhook(text)
  from public, :DATABASE_VISITOR;
