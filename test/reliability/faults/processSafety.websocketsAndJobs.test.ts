/**
 * No socket or job may bring the process down: the child (see ./childServer.ts) gets WebSocket
 * garbage, invalid frames and handshakes abandoned half-way, and jobs whose payload is garbage.
 * After each, the child must be alive and ready; at the end it still takes uploads and logged no crash.
 */
import WebSocket from "ws";
import { until } from "../../helpers/wait.ts";
import { db, expectAlive, port, RawClient, testAfterwards, useChildServer } from "./childServer.ts";

useChildServer();

describe("WebSockets", () => {
  const upgrade = (key = "dGhlIHNhbXBsZSBub25jZQ==") =>
    `GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: ` +
    `Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ` +
    `graphql-transport-ws\r\n\r\n`;

  test.each([
    ["text that is not JSON", "{{{ not json"],
    ["a message of an unknown type", JSON.stringify({ type: "no-such-type", id: 1 })],
    ["binary garbage", Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x81])],
  ])("a client sending %s is closed, the process stays", async (_name, message) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, "graphql-transport-ws");
    ws.on("error", () => undefined);
    let code: number | undefined;
    ws.on("close", (closeCode) => (code = closeCode));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send(message);
    await until(() => code !== undefined, "the server to close the WebSocket");
    expect(code).toBeGreaterThanOrEqual(4000);
    await expectAlive();
  });

  test(
    "invalid frames after the handshake (unmasked, reserved bits, bogus length) " + "are a protocol error, not a crash",
    async () => {
      const client = await RawClient.open();
      await client.write(upgrade());
      await until(() => client.received.includes("\r\n\r\n"), "the 101 answer");
      expect(client.received).toMatch(/^HTTP\/1\.1 101/);
      await client.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02]));
      await client.waitForClose("the server to drop the socket");
      await expectAlive();
    },
  );

  test("handshakes abandoned half-way: inside the headers, right after them, and half-closed", async () => {
    const cut = await RawClient.open();
    await cut.write(upgrade().slice(0, 60));
    cut.socket.destroy();

    const gone = await RawClient.open();
    await gone.write(upgrade());
    gone.socket.destroy();

    const halfClosed = await RawClient.open();
    await halfClosed.write(upgrade().slice(0, 90));
    halfClosed.socket.end();
    await halfClosed.waitForClose("the server to close the half-closed handshake");

    const afterOpen = await RawClient.open();
    await afterOpen.write(upgrade());
    await until(() => afterOpen.received.includes("\r\n\r\n"), "the 101 answer");
    afterOpen.socket.end();
    await afterOpen.waitForClose("the server to close the half-closed WebSocket");

    const wrongPath = await RawClient.open();
    await wrongPath.write(upgrade().replace("/graphql", "/api/images"));
    await wrongPath.waitForClose("the server to refuse an upgrade elsewhere");
    await expectAlive();
  });
});

test("jobs whose payload is garbage are run without harming the process", async () => {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    `select id from graphile_worker.add_job(
       'send_email', '{"template": 42, "to": {"not": "a list"}}'::json, max_attempts => 1
     )
     union all
     select id from graphile_worker.add_job('domain_event', '"just a string"'::json, max_attempts => 1)`,
  );
  // Run: gone (nothing to do) or failed once and unlocked (its only attempt used).
  await until(
    async () => {
      const { rows: pending } = await db.ownerPool.query(
        "select 1 from graphile_worker._private_jobs where id = any($1::bigint[]) and (attempts = 0 or " +
          "locked_at is not null)",
        [rows.map((row) => row.id)],
      );
      return pending.length === 0;
    },
    "the worker to run both jobs",
    30_000,
  );
  await expectAlive();
});

testAfterwards();
