/**
 * A client whose connection breaks while events are being written to it (closed without a close
 * frame mid-fan-out) is not a server fault: nothing is logged at warn or above, and the server
 * carries on.
 */
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import { ids, openSocket, subscribeAll } from "./websocketClient.ts";

const logLines: string[] = [];
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ logLines });
});
afterAll(() => app.stop());

test("connections that break while a hundred events are written to them log nothing at warn or above", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const notify = () =>
    app.db.ownerPool.query(
      "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) " +
        "values ($1, $2, 'test', 'drop', 'x')",
      [tenant.id, member.id],
    );
  const before = logLines.length;
  for (let round = 0; round < 6; round++) {
    const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
    subscribeAll(socket, ids("n", 100), "subscription { notificationAdded { notification { title } } }");
    const events = () => socket.messages.filter((message) => message.type === "next").length;
    await listening(app, `user:${member.id}:notifications`);
    // Notified until events arrive: the socket's subscriptions are live.
    await until(async () => {
      await notify();
      return events() > 0;
    }, "the first events");
    // Then a stream of them, and the client gone half-way, its connection closed without a word.
    const stream = Promise.all(Array.from({ length: 30 }, notify));
    const seen = events();
    await until(() => events() > seen + 150, "events on their way");
    socket.ws.terminate();
    await stream;
  }
  expect((await app.graphql("{ __typename }")).body).toEqual({ data: { __typename: "Query" } });
  const loud = logLines.slice(before).filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
  expect(loud).toEqual([]);
});
