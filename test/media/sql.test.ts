/**
 * The media module's SQL, called as each role in a rolled-back transaction: image records belong to
 * one tenant and are seen by its people only, requests never write them directly, and uploading is a
 * permission of its own. The upload route, storage and serving are in test/media/images.test.ts and
 * test/media/uploadLimits.test.ts.
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
  type SqlUser,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

/** The record an upload by `by` makes, written inside the open transaction. */
async function image(client: Client, by: SqlUser, hexDigit: string): Promise<string> {
  const insert = `insert into app_public.images (tenant_id, sha256, content_type, size, uploaded_by)
    values ($1, repeat($2, 64), 'image/png', 100, $3) returning id`;
  const [row] = await asRoot<{ id: string }>(db, client, insert, [by.tenantId, hexDigit, by.userId]);
  return row!.id;
}

const images = (client: Client) => column<string>(client, "select id from app_public.images order by id");

test("image records are per tenant: the same bytes are two records, each seen by its own tenant only", async () => {
  await asUser(db, a.manager, async (client) => {
    const mine = await image(client, a.manager, "a");
    const theirs = await image(client, b.manager, "a");
    expect(mine).not.toBe(theirs);
    for (const user of [a.owner, a.admin, a.manager, a.member]) {
      await become(client, user);
      expect(await images(client)).toEqual([mine]);
      expect(await column(client, "select id from app_public.images where id = $1", [theirs])).toEqual([]);
    }
    for (const user of [b.owner, b.member]) {
      await become(client, user);
      expect(await images(client)).toEqual([theirs]);
      expect(await column(client, "select id from app_public.images where sha256 = repeat('a', 64)")).toEqual([theirs]);
    }
  });
});

test("anonymous callers see no image records (the bytes are served by URL, outside SQL)", async () => {
  await asUser(db, a.manager, async (client) => {
    await image(client, a.manager, "c");
    await become(client, null);
    expect(await images(client)).toEqual([]);
  });
  await asAnonymous(db, async (client) => expect(await images(client)).toEqual([]));
});

test("uploading is the images.upload permission: owner, admin and manager hold it, a member does not", async () => {
  const holds = (user: SqlUser) =>
    asUser(db, user, (client) =>
      value<boolean>(client, "select app_public.current_user_has_permission('images.upload')"),
    );
  expect(await Promise.all([a.owner, a.admin, a.manager, a.member].map(holds))).toEqual([true, true, true, false]);
  await asAnonymous(db, async (client) => {
    expect(await value(client, "select app_public.current_user_has_permission('images.upload')")).toBe(false);
  });
});

test("media is a module a tenant can switch off, for itself only; its image records vanish with it", async () => {
  await asUser(db, a.owner, async (client) => {
    const enabled = () => value<boolean>(client, "select app_public.tenant_module_enabled('media')");
    const mine = await image(client, a.owner, "f");
    const theirs = await image(client, b.owner, "f");
    expect(await enabled()).toBe(true);
    expect(await errorCode(client, "select app_public.set_tenant_module('media', false)")).toBeUndefined();
    expect(await enabled()).toBe(false);
    expect(await images(client)).toEqual([]);
    await become(client, b.manager);
    expect(await enabled()).toBe(true);
    expect(await images(client)).toEqual([theirs]);
    await become(client, a.owner);
    expect(await errorCode(client, "select app_public.set_tenant_module('media', true)")).toBeUndefined();
    expect(await images(client)).toEqual([mine]);
  });
});

test("while media is off an image is as unknown as a hash that names none: to messages, products, events", async () => {
  await asUser(db, a.owner, async (client) => {
    const id = await image(client, a.owner, "9");
    const sha = "9".repeat(64);
    const chat = await value<string>(client, "select id from app_public.create_group_chat('Pictures', $1)", [[]]);
    const withImage = [
      ["select app_public.send_message($1, 'look', $2)", [chat, sha]],
      ["insert into app_public.products (name, price, image_sha256) values ('Framed', 1, $1)", [sha]],
      [
        "select app_public.create_event(name => 'Shown', starts_at => now(), ends_at => now() + '1h', image => $1)",
        [`/api/images/${id}`],
      ],
    ] as const;
    expect(await errorCode(client, "select app_public.set_tenant_module('media', false)")).toBeUndefined();
    for (const [sql, params] of withImage)
      expect({ sql, code: await errorCode(client, sql, [...params]) }).toEqual({ sql, code: "TVALD" });
    // A product that has no picture is still written, and one that keeps its picture is still edited.
    expect(
      await errorCode(client, "insert into app_public.products (name, price) values ('Plain', 1)"),
    ).toBeUndefined();
    expect(await errorCode(client, "select app_public.set_tenant_module('media', true)")).toBeUndefined();
    for (const [sql, params] of withImage) expect(await errorCode(client, sql, [...params])).toBeUndefined();
    expect(await errorCode(client, "select app_public.set_tenant_module('media', false)")).toBeUndefined();
    expect(
      await errorCode(client, "update app_public.products set name = 'Framed again' where name = 'Framed'"),
    ).toBeUndefined();
    expect(await column(client, "select image_sha256 from app_public.products where name = 'Framed again'")).toEqual([
      sha,
    ]);
  });
});

test("the request role never writes image records, not even its own tenant's", async () => {
  await asUser(db, a.owner, async (client) => {
    const id = await image(client, a.owner, "d");
    const writes: Array<[string, unknown[]]> = [
      ["insert into app_public.images (tenant_id, sha256) values ($1, repeat('e', 64))", [a.id]],
      ["update app_public.images set uploaded_by = null where id = $1", [id]],
      ["update app_public.images set tenant_id = $2 where id = $1", [id, b.id]],
      ["delete from app_public.images where id = $1", [id]],
    ];
    for (const [sql, params] of writes) expect(await errorCode(client, sql, params)).toBe("42501");
    expect(await images(client)).toEqual([id]);
  });
});
