/**
 * A socket's frames are handled one per turn of the event loop, in order (pacedFrames in
 * src/platform/websockets.ts): frames that arrive together — a client sending documents without
 * waiting — no longer hold the whole process (other sockets, /ready, the worker's database
 * connections) while every one of them is parsed, validated and planned. Past
 * MAX_WAITING_FRAME_BYTES waiting, the socket is not read until they are handled.
 *
 * A real WebSocket pair in this process: the turns of the event loop are counted by a chain of
 * setImmediate, which runs once per turn. (The effect on /ready under an anonymous flood is
 * measured, not asserted: `npm run bench:ws-flood`.)
 */
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { FairSlots } from "../../src/platform/fairSlots.ts";
import { MAX_WAITING_FRAME_BYTES, pacedFrames } from "../../src/platform/websockets.ts";
import { until } from "../helpers/wait.ts";

let server: WebSocketServer;
let url: string;
let accepted: Promise<WebSocket>;

beforeEach(async () => {
  server = new WebSocketServer({ port: 0, host: "127.0.0.1", maxPayload: 200_000 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  accepted = new Promise((resolve) => server.once("connection", (ws) => resolve(ws)));
});
afterEach(async () => {
  for (const ws of server.clients) ws.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A client connected to the test server, and the server's side of it. */
async function connect(): Promise<{ client: WebSocket; serverSide: WebSocket }> {
  const client = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", reject);
  });
  return { client, serverSide: await accepted };
}

/** Counts the turns of the event loop until stopped. */
function turnCounter(): { readonly turn: number; stop(): void } {
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn += 1;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turn() {
      return turn;
    },
    stop: () => void (counting = false),
  };
}

test("100 frames sent at once are handled in order, each in a turn of the event loop of its own", async () => {
  const { client, serverSide } = await connect();
  const paced = pacedFrames(serverSide);
  const handled: Array<{ text: string; turn: number }> = [];
  const turns = turnCounter();
  serverSide.on("message", (data) =>
    paced.push(data, () => void handled.push({ text: String(data), turn: turns.turn })),
  );
  const sent = Array.from({ length: 100 }, (_, i) => `frame ${i}`);
  for (const text of sent) client.send(text);
  await until(() => handled.length === sent.length, "every frame to be handled");
  turns.stop();
  expect(handled.map((frame) => frame.text)).toEqual(sent);
  // Handled all in the callback of the read that brought them, they shared one turn.
  expect(new Set(handled.map((frame) => frame.turn)).size).toBe(sent.length);
  client.close();
});

test(`past ${MAX_WAITING_FRAME_BYTES} bytes waiting the socket is paused, read again once handled`, async () => {
  const { client, serverSide } = await connect();
  const paced = pacedFrames(serverSide);
  const handled: string[] = [];
  const pausedWhenHandled: boolean[] = [];
  serverSide.on("message", (data) => paced.push(data, () => void handled.push(String(data))));
  // 12 frames of 100 kB waiting at once (as one read of the socket can bring them): 1.2 MB.
  for (let i = 0; i < 12; i++) {
    const frame = Buffer.from(String(i).padEnd(100_000, "x"));
    paced.push(frame, () => void pausedWhenHandled.push(serverSide.isPaused));
  }
  expect(serverSide.isPaused).toBe(true);
  await until(() => pausedWhenHandled.length === 12, "the frames to be handled");
  // Paused while more than may wait were waiting; read again once enough of them were handled.
  expect(pausedWhenHandled[0]).toBe(true);
  expect(pausedWhenHandled.at(-1)).toBe(false);
  expect(serverSide.isPaused).toBe(false);
  // And it reads: a frame the client sends now arrives and is handled.
  client.send("after");
  await until(() => handled.includes("after"), "the frame sent after to be handled");
  client.close();
});

test("fair places: at most their number at once; the waiting served an address at a time", async () => {
  const slots = new FairSlots(2);
  const order: string[] = [];
  const take = (address: string, name: string) => slots.acquire(address).then(() => void order.push(name));
  const taken = [take("a", "a1"), take("a", "a2")];
  // Full: a flood from a, then one operation from b.
  const waiting = [take("a", "a3"), take("a", "a4"), take("a", "a5"), take("b", "b1")];
  expect([slots.full(), slots.waiting, slots.waitingOf("a"), slots.waitingOf("b"), slots.waitingOf("c")]).toEqual([
    true,
    4,
    3,
    1,
    0,
  ]);
  await Promise.all(taken);
  await new Promise((resolve) => setImmediate(resolve));
  expect(order).toEqual(["a1", "a2"]);
  // Each place given back goes to the next address in turn: a, then b, then a again.
  for (let i = 0; i < 4; i++) slots.release();
  await Promise.all(waiting);
  expect(order).toEqual(["a1", "a2", "a3", "b1", "a4", "a5"]);
  expect([slots.full(), slots.waiting, slots.waitingOf("a")]).toEqual([true, 0, 0]);
  // The places still held given back: two can be taken at once again.
  slots.release();
  slots.release();
  const again: string[] = [];
  await Promise.all([slots.acquire("c"), slots.acquire("d")].map((p, i) => p.then(() => void again.push(String(i)))));
  expect(again).toEqual(["0", "1"]);
});
