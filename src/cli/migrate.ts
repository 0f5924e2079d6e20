/** `npm run migrate`: installs graphile-worker's schema and applies committed migrations, then exits. */
import { boot, withDatabase } from "./boot.ts";

const booted = await boot("tessera-migrate");
await withDatabase(booted, { migrate: true }, async () => booted.logger.info("the database is current"));
