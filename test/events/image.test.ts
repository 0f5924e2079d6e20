/**
 * An event's image is an https:// URL or the URL of an image its own tenant uploaded: another
 * tenant's image, an id nobody uploaded and an http:// URL are VALIDATION_FAILED and change nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import type { TestUser } from "../helpers/fixtures.ts";
import { png } from "../helpers/images.ts";
import { CREATE_EVENT, createEvent, inMinutes, newTenant } from "./helpers.ts";

const uploads = mkdtempSync(join(tmpdir(), "tessera-event-images-"));
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ env: { IMAGE_UPLOAD_PATH: uploads } });
});
afterAll(async () => {
  await app.stop();
  rmSync(uploads, { recursive: true, force: true });
});

const UPDATE_IMAGE =
  `mutation ($id: UUID!, $image: String, $name: String) { updateEvent(input: { eventId: $id, image: $image, ` +
  `name: $name }) { event { rowId } } }`;
const code = (body: { errors?: Array<{ extensions?: { code?: string; details?: unknown } }> }) =>
  body.errors?.[0]?.extensions;
const uploadImage = async (user: TestUser, fill: number): Promise<string> => {
  const response = await request(app.url)
    .post("/api/images")
    .set("Authorization", `Bearer ${user.token}`)
    .attach("file", png(fill), { filename: "p.png", contentType: "image/png" });
  expect(response.status).toBe(201);
  return response.body.url as string;
};
const imageOf = async (eventId: string) =>
  (
    await app.db.ownerPool.query<{ image: string | null }>("select image from app_public.events where id = $1", [
      eventId,
    ])
  ).rows[0]!.image;
const REFUSED = { code: "VALIDATION_FAILED", details: { field: "image" } };

test(
  "createEvent and updateEvent refuse another tenant's image, an id nobody uploaded and http://; own images " +
    "and https:// are accepted",
  async () => {
    const { tenantId, manager } = await newTenant(app);
    const other = (await newTenant(app)).manager;
    const own = await uploadImage(manager, 1);
    const theirs = await uploadImage(other, 2);
    const refused = [
      theirs,
      "/api/images/00000000-0000-4000-8000-000000000000",
      "http://evil.test/x.png",
      "HTTPS://evil.test/x.png",
      // An https:// URL has at most 2,048 characters (a 90 kB one had been stored).
      `https://img.example.test/${"a".repeat(2_049 - "https://img.example.test/".length)}`,
      // Not in ASCII, or with a user name or password: U+202E made a URL read as another's, and a
      // user name one read as the site after it (both were stored before migration 000098).
      "https://\u202eexample.test/x.png",
      "https://img.example.test/\u202egnp.exe",
      "https://user:pass@evil.test/x.png",
      "https://img.example.test@evil.test/x.png",
      "https://bücher.example/x.png",
      "https:///x.png",
    ];

    const base = { name: "Picture", startsAt: inMinutes(60), endsAt: inMinutes(120) };
    for (const image of refused) {
      const { body } = await app.graphql(CREATE_EVENT, { input: { ...base, image } }, manager.token);
      expect([image, code(body)]).toEqual([image, REFUSED]);
    }
    const count = await app.db.ownerPool.query(
      "select count(*)::int as n from app_public.events where tenant_id = $1",
      [tenantId],
    );
    expect(count.rows[0].n).toBe(0);

    const withOwn = await createEvent(app, manager.token, { image: own });
    const withHttps = await createEvent(app, manager.token, { image: "https://img.example.test/a.png" });
    // Percent-encoded, punycode, a port, an IPv6 address, a query: all ASCII, all taken.
    for (const image of [
      "https://img.example.test/%E2%80%AE/a%20b.png?size=2&x=%40#top",
      "https://xn--bcher-kva.example:8443/a.png",
      "https://[2001:db8::1]/a.png",
    ])
      await createEvent(app, manager.token, { image });
    expect([await imageOf(withOwn), await imageOf(withHttps)]).toEqual([own, "https://img.example.test/a.png"]);
    const longest = `https://img.example.test/${"a".repeat(2_048 - "https://img.example.test/".length)}`;
    expect(await imageOf(await createEvent(app, manager.token, { image: longest }))).toBe(longest);

    for (const image of refused) {
      const { body } = await app.graphql(UPDATE_IMAGE, { id: withOwn, image, name: "Changed" }, manager.token);
      expect([image, code(body)]).toEqual([image, REFUSED]);
    }
    const unchanged = await app.db.ownerPool.query("select name, image from app_public.events where id = $1", [
      withOwn,
    ]);
    expect(unchanged.rows).toEqual([{ name: "Meetup", image: own }]);

    expect(
      (await app.graphql(UPDATE_IMAGE, { id: withOwn, image: "https://img.example.test/b.png" }, manager.token)).body
        .errors,
    ).toBeUndefined();
    expect((await app.graphql(UPDATE_IMAGE, { id: withHttps, image: own }, manager.token)).body.errors).toBeUndefined();
    expect([await imageOf(withOwn), await imageOf(withHttps)]).toEqual(["https://img.example.test/b.png", own]);
    // The other tenant uses its own upload.
    const theirEvent = await createEvent(app, other.token, { image: theirs });
    expect(await imageOf(theirEvent)).toBe(theirs);
    // An id in upper case names the image its URL serves in either case: stored as the upload answered
    // it (it was refused before).
    const shouted = `/api/images/${theirs.slice("/api/images/".length).toUpperCase()}`;
    const shoutedEvent = await createEvent(app, other.token, { image: shouted });
    expect(await imageOf(shoutedEvent)).toBe(theirs);
    expect((await request(app.url).get(shouted)).status).toBe(200);
  },
);

test("an event stored before the check keeps its image and stays editable", async () => {
  const { manager } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, { name: "Old one" });
  // A row written before images were checked (an http:// URL was accepted then).
  const client = await app.db.rootPool.connect();
  try {
    await client.query("begin");
    await client.query("set local session_replication_role = replica");
    await client.query("update app_public.events set image = 'http://legacy.example.test/x.png' where id = $1", [
      eventId,
    ]);
    await client.query("commit");
  } finally {
    client.release();
  }
  const renamed = await app.graphql(UPDATE_IMAGE, { id: eventId, name: "Renamed" }, manager.token);
  expect(renamed.body.errors).toBeUndefined();
  expect(await imageOf(eventId)).toBe("http://legacy.example.test/x.png");
});
