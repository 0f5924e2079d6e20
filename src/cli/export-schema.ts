/** `npm run schema:export`: migrate, then rewrite schema.graphql and sql/schema.sql. */
import { boot, withDatabase } from "./boot.ts";

const booted = await boot("tessera-schema");
const { exportSchemas } = await import("../platform/schemaExport.ts");
await withDatabase(booted, { migrate: true }, (urls) => exportSchemas(urls, booted.logger, booted.modules));
