/**
 * The tenancy module's SQL, called as each role in a rolled-back transaction: who sees which tenant,
 * the module catalogue and a tenant's module switches, who may switch a module, and that a switched-off
 * module's functions refuse. The subscription and REST answers are in test/graphql and test/rest.
 */
import {
  a,
  asAnonymous,
  asRoot,
  asUser,
  b,
  become,
  type Client,
  column,
  db,
  errorCode,
  rows,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

const SWITCH = "select module, enabled from app_public.set_tenant_module($1, $2)";
const enabled = (client: Client, module: string) =>
  value<boolean>(client, "select app_public.tenant_module_enabled($1)", [module]);
const switches = (client: Client) =>
  rows(client, "select tenant_id, module, enabled from app_public.tenant_modules order by module");

test("every signed-in role sees its own tenant only; anonymous sees none", async () => {
  for (const user of [a.owner, a.admin, a.manager, a.member]) {
    await asUser(db, user, async (client) => {
      expect(await column(client, "select id from app_public.tenants")).toEqual([a.id]);
      expect(await rows(client, "select id, slug from app_public.current_tenant()")).toEqual([
        { id: a.id, slug: a.slug },
      ]);
      expect(await value(client, "select app_public.current_tenant_id()")).toBe(a.id);
    });
  }
  await asAnonymous(db, async (client) => {
    expect(await column(client, "select id from app_public.tenants")).toEqual([]);
    expect(await value(client, "select (app_public.current_tenant()).id")).toBeNull();
    expect(await column(client, "select module from app_public.tenant_modules")).toEqual([]);
  });
});

test("the module catalogue is public; each tenant sees its own switches, every module on", async () => {
  const catalogue = ["broadcasts", "builds", "commerce", "events", "media", "messaging", "operations"];
  await asAnonymous(db, async (client) => {
    expect(await column(client, "select name from app_public.modules order by name")).toEqual(catalogue);
  });
  for (const tenant of [a, b]) {
    await asUser(db, tenant.member, async (client) => {
      const mine = catalogue.map((module) => ({ tenant_id: tenant.id, module, enabled: true }));
      expect(await switches(client)).toEqual(mine);
      for (const module of catalogue) expect(await enabled(client, module)).toBe(true);
    });
  }
});

test("switching a module needs modules.manage: owner and admin may, manager and member are FORBIDDEN", async () => {
  for (const user of [a.manager, a.member]) {
    await asUser(db, user, async (client) => {
      expect(await errorCode(client, SWITCH, ["events", false])).toBe("TFORB");
      expect(await enabled(client, "events")).toBe(true);
    });
  }
  for (const user of [a.owner, a.admin]) {
    await asUser(db, user, async (client) => {
      expect(await rows(client, SWITCH, ["events", false])).toEqual([{ module: "events", enabled: false }]);
      expect(await enabled(client, "events")).toBe(false);
      expect(await rows(client, SWITCH, ["events", true])).toEqual([{ module: "events", enabled: true }]);
      expect(await enabled(client, "events")).toBe(true);
    });
  }
  await asAnonymous(db, async (client) => {
    expect(await errorCode(client, SWITCH, ["events", false])).toBe("TAUTH");
  });
  await asUser(db, a.owner, async (client) => {
    expect(await errorCode(client, SWITCH, ["payroll", true])).toBe("TNFND");
    expect(await errorCode(client, SWITCH, ["no-such-module", true])).toBe("TNFND");
  });
});

test("switching a module changes the caller's tenant only", async () => {
  await asUser(db, a.owner, async (client) => {
    await rows(client, SWITCH, ["media", false]);
    await become(client, b.owner);
    expect(await enabled(client, "media")).toBe(true);
    await become(client, a.member);
    expect(await enabled(client, "media")).toBe(false);
    expect(await value(client, "select count(*)::int from app_public.tenant_modules where not enabled")).toBe(1);
  });
});

test("writing the switches directly obeys the same rules, within the caller's tenant", async () => {
  const off = "update app_public.tenant_modules set enabled = false where module = 'events' returning tenant_id";
  await asUser(db, a.member, async (client) => {
    expect(await column(client, off)).toEqual([]);
    expect(await enabled(client, "events")).toBe(true);
  });
  await asUser(db, a.owner, async (client) => {
    // An owner's update reaches their own tenant's row, never B's.
    expect(await column(client, off)).toEqual([a.id]);
    const insertB = "insert into app_public.tenant_modules (tenant_id, module, enabled) values ($1, 'events', false)";
    expect(await errorCode(client, insertB, [b.id])).toBe("42501");
    const settings = `update app_public.tenant_modules set settings = '{"emailNotifications": false}'
      where module = 'events' returning tenant_id`;
    expect(await column(client, settings)).toEqual([a.id]);
    expect(await errorCode(client, "delete from app_public.tenant_modules")).toBe("42501");
    expect(await errorCode(client, "update app_public.tenant_modules set tenant_id = $1", [b.id])).toBe("42501");
    await become(client, b.member);
    expect(await enabled(client, "events")).toBe(true);
  });
});

test("a tenant's own row is read-only for every role: no renaming, suspending or creating tenants", async () => {
  await asUser(db, a.owner, async (client) => {
    expect(await errorCode(client, "update app_public.tenants set name = 'Renamed'")).toBe("42501");
    expect(await errorCode(client, "update app_public.tenants set status = 'active'")).toBe("42501");
    expect(await errorCode(client, "insert into app_public.tenants (slug, name) values ('new-one', 'New')")).toBe(
      "42501",
    );
    expect(await errorCode(client, "delete from app_public.tenants")).toBe("42501");
    expect(await errorCode(client, "insert into app_public.modules (name, description) values ('x', 'x')")).toBe(
      "42501",
    );
  });
});

test("a switched-off module's functions refuse (FORBIDDEN) and its rows disappear; on again, they work", async () => {
  await asUser(db, a.owner, async (client) => {
    await rows(client, SWITCH, ["events", false]);
    await rows(client, SWITCH, ["operations", false]);
    const create = "select app_public.create_event('Off', now() + interval '1 day', now() + interval '2 days')";
    expect(await errorCode(client, create)).toBe("TFORB");
    expect(await errorCode(client, "select count(*) from app_public.failed_jobs()")).toBe("TFORB");
    await rows(client, SWITCH, ["events", true]);
    expect(await errorCode(client, create)).toBeUndefined();
    expect(await value(client, "select count(*)::int from app_public.events")).toBe(1);
    await rows(client, SWITCH, ["events", false]);
    expect(await value(client, "select count(*)::int from app_public.events")).toBe(0);
  });
});

test("a suspended tenant's sessions are dead: its people are anonymous and cannot switch modules", async () => {
  await asUser(db, a.owner, async (client) => {
    await asRoot(db, client, "update app_public.tenants set status = 'suspended' where id = $1", [a.id]);
    expect(await value(client, "select app_public.current_tenant_id()")).toBeNull();
    expect(await column(client, "select id from app_public.tenants")).toEqual([]);
    expect(await column(client, "select module from app_public.tenant_modules")).toEqual([]);
    expect(await errorCode(client, SWITCH, ["events", false])).toBe("TAUTH");
    await become(client, b.owner);
    expect(await column(client, "select id from app_public.tenants")).toEqual([b.id]);
  });
});
