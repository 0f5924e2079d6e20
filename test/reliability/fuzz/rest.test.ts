/**
 * Property-based fuzzing of every REST operation of the route table (the OpenAPI document), with
 * a valid caller of its kind (a bearer token of the tenant's owner, or a store bot's X-API-KEY and
 * X-BOT-ID) and generated, hostile path parameters, query strings, bodies and headers
 * (./restCases.ts). For every answer: the server process is still running and logged no error; no
 * 500 (a 5xx only when the route documents it); the status is one the route documents; an error
 * answers the envelope with a code of docs/errors.md's table, at that code's status, among the
 * route's codes; a refused request changed no row of app_public and no job; an accepted one wrote
 * no NaN or infinity. regressions.json is replayed first (docs/fuzzing.md).
 */
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { DEV_PAYMENT_WEBHOOK_SECRET } from "../../../src/modules/payments/config.ts";
import { MODULES } from "../../../src/modules/index.ts";
import { openApiText } from "../../../src/platform/http/openapi.ts";
import {
  countChanges,
  documentedErrors,
  type FuzzServer,
  poisonFinder,
  providerPaymentIds,
  rowCounter,
  type Signed,
  seedStore,
  signedInOwner,
  startFuzzServer,
  tenantIds,
} from "./fuzzServer.ts";
import {
  fuzzParameters,
  loadRegressions,
  saveFailure,
  shortly,
  shownShortly,
  tally,
  printTally,
} from "./regressions.ts";
import { pathPattern } from "../../../src/platform/http/routeTable.ts";
import { type Operation, operationsOf, type RestCase, restCases } from "./restCases.ts";
import type { JsonSchema, SchemaContext } from "./schemaValues.ts";

const RUNS = 30;
const document = JSON.parse(openApiText(MODULES)) as JsonSchema;
const operations = operationsOf(document);
const errorTable = documentedErrors();
const regressions = loadRegressions().filter((entry) => entry.route);

let server: FuzzServer;
let signed: Signed;
let store: { apiKey: string; botId: string; telegramId: number };
let counts: () => Promise<Record<string, number>>;
/** Columns that took NaN, ±Infinity or ±infinity since the last look. */
let newPoison: () => Promise<string[]>;
let context: Omit<SchemaContext, "hostile">;

/** What names something real in the tenant now (earlier routes may have added rows). */
async function refreshKnown(): Promise<void> {
  context = {
    document,
    known: {
      idsByTable: await tenantIds(server.db, signed.tenant.id),
      integers: [store.telegramId],
      strings: [signed.owner.username, ...(await providerPaymentIds(server.db, signed.tenant.id))],
      email: signed.owner.email,
      slug: signed.tenant.slug,
    },
  };
}

beforeAll(async () => {
  server = await startFuzzServer();
  signed = await signedInOwner(server.db);
  store = await seedStore(server, signed);
  counts = await rowCounter(server.db);
  newPoison = await poisonFinder(server.db);
}, 180_000);
afterAll(async () => {
  printTally();
  await server?.stop();
});

async function headersFor(operation: Operation, restCase: RestCase): Promise<Record<string, string>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (operation.security === "bearer") headers.authorization = `Bearer ${await signed.freshToken()}`;
  if (operation.security === "bot") Object.assign(headers, { "x-api-key": store.apiKey, "x-bot-id": store.botId });
  if (restCase.contentType !== undefined) headers["content-type"] = restCase.contentType;
  if (restCase.sign && restCase.body !== undefined) {
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    const at = new Date();
    Object.assign(headers, {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(DEV_PAYMENT_WEBHOOK_SECRET).sign(id, at, restCase.body),
    });
  }
  return { ...headers, ...restCase.headers };
}

/** The codes the operation documents for a status, or undefined when that status is not an error envelope. */
function documentedCodes(operation: Operation, status: number): string[] | undefined {
  const response = operation.spec.responses?.[String(status)];
  const schema = response?.content?.["application/json"]?.schema;
  const envelope = schema?.allOf?.[0]?.$ref === "#/components/schemas/ErrorEnvelope";
  return envelope ? (schema.allOf[1]?.properties?.error?.properties?.code?.enum ?? []) : undefined;
}

/** Sends one case and lists what is wrong with the answer (empty: nothing). */
async function problemsOf(operation: Operation, restCase: RestCase): Promise<string[]> {
  const headers = await headersFor(operation, restCase);
  const body =
    restCase.body === undefined ? undefined : Buffer.from(restCase.body, restCase.latin1 ? "latin1" : "utf8");
  const before = await counts();
  const answer = await server.send({ method: operation.method, path: restCase.path, headers, body });
  const problems: string[] = [];
  if (answer.status === 0 || !server.running()) {
    problems.push(`no answer (${answer.text}); server running: ${server.running()}`);
    return problems;
  }
  const logged = await server.takeErrorLines();
  if (logged.length > 0) problems.push(`the server logged errors: ${logged.join("\n").slice(0, 2000)}`);
  const { status } = answer;
  tally(operation.name, status, answer.json);
  if (status === 500 || (status >= 500 && !(String(status) in (operation.spec.responses ?? {}))))
    problems.push(`status ${status}`);
  // A path whose parameter came out empty names another route (`/api/images/` is POST /api/images):
  // a 405 is that route's answer, in the envelope, and no answer of this operation's.
  const anotherRoute = status === 405 && !pathPattern(operation.template).test(restCase.path.split("?")[0]!);
  if (anotherRoute) {
    const code = (answer.json as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (code !== "METHOD_NOT_ALLOWED") problems.push(`405 without METHOD_NOT_ALLOWED: ${answer.text.slice(0, 300)}`);
  } else if (!(String(status) in (operation.spec.responses ?? {})))
    problems.push(`status ${status} is not documented here`);
  if (status < 400) problems.push(...(await newPoison()));
  if (status >= 400) {
    const codes = documentedCodes(operation, status);
    if (codes) {
      const code = (answer.json as { error?: { code?: unknown } } | undefined)?.error?.code;
      if (typeof code !== "string") problems.push(`no error envelope: ${answer.text.slice(0, 300)}`);
      else if (!errorTable.has(code)) problems.push(`code ${code} is not in docs/errors.md`);
      else if (errorTable.get(code) !== status)
        problems.push(`code ${code} answered ${status}, not ${errorTable.get(code)}`);
      else if (!codes.includes(code))
        problems.push(`code ${code} is not documented for this route (${codes.join(", ")})`);
    }
    const changes = countChanges(before, await counts());
    if (changes.length > 0) problems.push(`refused (${status}) but wrote: ${changes.join("; ")}`);
  }
  if (problems.length > 0) problems.push(`answer: ${status} ${answer.text.slice(0, 600)}`);
  return problems;
}

async function check(operation: Operation, restCase: RestCase): Promise<void> {
  const problems = await problemsOf(operation, restCase);
  if (problems.length === 0) return;
  const file = saveFailure({ route: operation.name, input: { ...restCase } });
  throw new Error(
    `${operation.name} ${shortly(restCase)}\n- ${problems.join("\n- ")}\nthe whole input, as a regression: ${file}`,
  );
}

test("the served document is the route table fuzzed here", async () => {
  const served = await server.send({ method: "GET", path: "/openapi.json" });
  expect(served.json).toEqual(document);
  expect(operations.length).toBeGreaterThan(40);
});

describe.each(operations.map((operation) => [operation.name, operation] as const))("%s", (_name, operation) => {
  test("regressions, then random and hostile input: no 500, documented codes, no partial write", async () => {
    await refreshKnown();
    for (const regression of regressions.filter((entry) => entry.route === operation.name))
      await check(operation, regression.input as unknown as RestCase);
    await fc.assert(
      fc.asyncProperty(restCases(operation, context).map(shownShortly), (restCase) => check(operation, restCase)),
      fuzzParameters(RUNS),
    );
    await server.expectAlive();
  }, 120_000);
});

test("afterwards: the server is alive and logged no error", async () => {
  await server.expectAlive();
  expect(await server.takeErrorLines()).toEqual([]);
});
