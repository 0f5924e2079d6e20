/**
 * A client whose connection breaks while events are being written to it (a reset, or a close
 * without a close frame, mid-fan-out) is not a server fault: nothing is logged at warn or above,
 * and the server carries on.
 */
import net from "node:net";
import { randomBytes } from "node:crypto";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

const logLines: string[] = [];
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ logLines });
});
afterAll(() => app.stop());

/** A graphql-transport-ws client over a raw TCP socket, so that it can reset the connection at will. */
async function rawSocket(token: string): Promise<{ socket: net.Socket; frames: () => number }> {
  const { port } = new URL(app.url);
  const socket = net.connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  let received = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
      "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
  );
  const send = (message: unknown) => socket.write(maskedFrame(JSON.stringify(message)));
  await until(() => received.includes("101 Switching Protocols"), "the upgrade");
  send({ type: "connection_init", payload: { authorization: `Bearer ${token}` } });
  await until(() => received.includes("connection_ack"), "connection_ack");
  for (let i = 0; i < 100; i++)
    send({
      id: `n${i}`,
      type: "subscribe",
      payload: { query: "subscription { notificationAdded { notification { title } } }" },
    });
  return { socket, frames: () => received.toString("latin1").split('"type":"next"').length - 1 };
}

/** A client's text frame: masked, as RFC 6455 requires of clients. */
function maskedFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const head =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

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
    const { socket, frames } = await rawSocket(member.token);
    await listening(app, `user:${member.id}:notifications`);
    // Notified until events arrive: the socket's subscriptions are live.
    await until(async () => {
      await notify();
      return frames() > 0;
    }, "the first events");
    // Then a stream of them, and the client gone half-way: a reset or a plain close.
    const stream = Promise.all(Array.from({ length: 30 }, notify));
    const seen = frames();
    await until(() => frames() > seen + 150, "events on their way");
    if (round % 2) socket.resetAndDestroy();
    else socket.destroy();
    await stream;
  }
  expect((await app.graphql("{ __typename }")).body).toEqual({ data: { __typename: "Query" } });
  const loud = logLines.slice(before).filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
  expect(loud).toEqual([]);
});
