/**
 * The bot API through a client generated from its OpenAPI document: the committed types match the
 * document, a bot written with them runs the journey against a real server, and the types have
 * teeth (a call the document does not allow fails to type-check).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { balanceOf, botClient, buyCheapest } from "./client/botJourney.ts";
import { createProduct, createStore, fundCustomer, type TestStore } from "./store.ts";

const root = join(import.meta.dirname, "../..");
let app: TestApp;
let store: TestStore;

beforeAll(async () => {
  app = await startTestApp();
  store = await createStore(app);
  await createProduct(app, store.admin, { name: "Cheap", price: "3.00", stock: 1 });
  await createProduct(app, store.admin, { name: "Dear", price: "30.00", stock: 1 });
});
afterAll(() => app.stop());

test("src/generated/openapi.ts is openapi-typescript's output for the served document", async () => {
  const served = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenAPI3;
  expect(served).toEqual(JSON.parse(readFileSync(join(root, "openapi.json"), "utf8")));
  const generated = astToString(await openapiTS(served));
  expect(readFileSync(join(root, "src/generated/openapi.ts"), "utf8")).toBe(generated);
});

test("a bot written with the generated client buys, pays and reads the balance", async () => {
  const client = botClient(app.url, store.apiKey, store.botId);
  const customer = await client.POST("/api/bot/customers", { body: { telegramId: 606 } });
  await fundCustomer(app, store.admin, customer.data!.id, "10.00");
  const order = await buyCheapest(client, 606);
  expect(order).toMatchObject({ status: "paid", total: "3.00", items: [{ name: "Cheap", quantity: 1 }] });
  expect(await balanceOf(client, 606)).toBe("7.00");
});

test("the generated types refuse what the document does not allow", () => {
  const dir = mkdtempSync(join(root, "test/commerce/client/.typecheck-"));
  try {
    writeFileSync(
      join(dir, "wrong.ts"),
      [
        'import { botClient } from "../botJourney.ts";',
        'const client = botClient("http://127.0.0.1", "key", "bot");',
        'await client.POST("/api/bot/orders", { body: { telegramId: "606", items: [] } });',
        'await client.POST("/api/bot/orders/{id}/pay", { params: { path: { id: "x" } }, body: { method: "cash" } });',
        'await client.GET("/api/bot/no-such-route");',
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: "../../../../tsconfig.json", include: ["wrong.ts", "../botJourney.ts"] }),
    );
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
      encoding: "utf8",
    });
    const errors = tsc.stdout.split("\n").filter((line) => line.includes("error TS"));
    // One error per wrong call, all in wrong.ts: botJourney.ts itself type-checks.
    expect(errors.map((line) => line.replace(/\(.*/, "").replace(/^.*\//, ""))).toEqual([
      "wrong.ts",
      "wrong.ts",
      "wrong.ts",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
