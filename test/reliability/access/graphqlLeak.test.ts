/**
 * The GraphQL matrix catches a hole the database's row-level security cannot: two functions added
 * to app_public (in this file's own database) that run as their owner, past row-level security — a
 * query answering every tenant's events and a mutation renaming any event — are reported by name,
 * for reading tenant B's rows and for changing them.
 */
import { startTestApp, type TestApp } from "../../helpers/app.ts";
import { runGraphqlMatrix } from "./graphqlMatrix.ts";
import { MATRIX_TIMEOUT_MS } from "./expectations.ts";
import { createSeededTenant, type SeededTenant } from "./seed.ts";

let app: TestApp;
let a: SeededTenant;
let b: SeededTenant;

beforeAll(async () => {
  app = await startTestApp({
    openapiCheck: false,
    prepareDatabase: async (db) => {
      await db.ownerPool.query(`
        create function app_public.zz_leaky_events() returns setof app_public.events
          language sql stable security definer set search_path = pg_catalog
          as $$ select * from app_public.events $$;
        comment on function app_public.zz_leaky_events() is '@module events
A planted hole: every tenant''s events.';
        create function app_public.zz_rename_event(event_id uuid, name text) returns app_public.events
          language sql volatile security definer set search_path = pg_catalog
          as $$ update app_public.events e set name = zz_rename_event.name where e.id = event_id returning e.* $$;
        comment on function app_public.zz_rename_event(uuid, text) is '@module events
A planted hole: renames any tenant''s event.';
        grant execute on function app_public.zz_leaky_events() to ${db.urls.visitorRole};
        grant execute on function app_public.zz_rename_event(uuid, text) to ${db.urls.visitorRole};`);
    },
  });
  a = await createSeededTenant(app.db);
  b = await createSeededTenant(app.db);
});
afterAll(() => app.stop());

test(
  "a query and a mutation that pass row-level security are reported for every role",
  async () => {
    const { problems } = await runGraphqlMatrix(app, a, b, { fields: (name) => name.startsWith("zz") });
    for (const role of ["anonymous", "member", "manager", "admin", "owner"]) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^query zzLeakyEvents as ${role} answered `)));
      const renamed = `mutation zzRenameEvent as ${role} changed tenant B's rows: app_public.events`;
      expect(problems).toContainEqual(expect.stringContaining(renamed));
      expect(problems).toContainEqual(
        expect.stringMatching(new RegExp(`^mutation zzRenameEvent as ${role} .* answered the id of tenant B's`)),
      );
    }
  },
  MATRIX_TIMEOUT_MS,
);
