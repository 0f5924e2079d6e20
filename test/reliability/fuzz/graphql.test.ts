/**
 * Property-based fuzzing of every Mutation field of the GraphQL schema, as the server introspects
 * it when the file starts (no list of mutations is written here), each as the signed-in owner of a
 * tenant of its own that holds one of everything, with arguments generated from the input types
 * (./graphqlCases.ts): right and wrong types, hostile values, required fields left out, unknown
 * fields, literals in the document, broken bodies, other headers. For every answer: the server
 * process is still running and logged no error; no 5xx but a documented 503; every error carries a
 * code of docs/errors.md's table, never INTERNAL; a mutation that failed changed no row of
 * app_public and no job; one that succeeded wrote no NaN or infinity. regressions.json is replayed
 * first (docs/fuzzing.md).
 */
import fc from "fast-check";
import {
  countChanges,
  documentedErrors,
  type FuzzServer,
  poisonFinder,
  providerPaymentIds,
  tenantJobIds,
  rowCounter,
  seedStore,
  signedInOwner,
  setupGql,
  type Signed,
  startFuzzServer,
  tenantIds,
} from "./fuzzServer.ts";
import {
  type Generation,
  type GraphqlCase,
  graphqlCases,
  INTROSPECTION_QUERY,
  type Introspection,
  readIntrospection,
} from "./graphqlCases.ts";
import {
  fuzzParameters,
  loadRegressions,
  printTally,
  saveFailure,
  shortly,
  shownShortly,
  tally,
} from "./regressions.ts";

const RUNS = 20;
const errorTable = documentedErrors();
const regressions = loadRegressions().filter((entry) => entry.mutation);

const server: FuzzServer = await startFuzzServer();
let schema: Introspection;
try {
  const introspector = await signedInOwner(server.db);
  schema = readIntrospection(await setupGql(server, await introspector.freshToken(), INTROSPECTION_QUERY));
} catch (error) {
  await server.stop();
  throw error;
}
const mutations = (schema.types.get(schema.mutationType)?.fields ?? []).map((field) => field.name).sort();
const counts = await rowCounter(server.db);
/** Columns that took NaN, ±Infinity or ±infinity since the last look. */
const newPoison = await poisonFinder(server.db);

afterAll(async () => {
  printTally();
  await server.stop();
});

interface Owner extends Signed {
  generation: Omit<Generation, "hostile">;
}

/** PostGraphile's global id of a row: base64 of `["TypeName", id]`. */
const nodeId = (type: string, id: string) => Buffer.from(JSON.stringify([type, id]), "utf8").toString("base64");

/** The GraphQL type of a table's rows (`event_participants` → `EventParticipant`), when it is a Node. */
function nodeTypeOf(table: string): string | undefined {
  const pascal = table.replace(/(^|_)([a-z])/g, (_all, _sep, letter: string) => letter.toUpperCase());
  for (const candidate of [pascal.replace(/ies$/, "y"), pascal.replace(/s$/, ""), pascal.replace(/es$/, "")]) {
    const type = schema.types.get(candidate);
    if (type?.interfaces?.some((entry) => entry.name === "Node")) return candidate;
  }
  return undefined;
}

/** A tenant of the mutation's own, its owner signed in, its store seeded; the ids of its rows. */
async function ownerWithStore(): Promise<Owner> {
  const signed = await signedInOwner(server.db);
  const store = await seedStore(server, signed);
  const byTable = await tenantIds(server.db, signed.tenant.id);
  const nodeIds = Object.entries(byTable).flatMap(([table, ids]) => {
    const type = nodeTypeOf(table);
    return type ? ids.map((id) => nodeId(type, id)) : [];
  });
  return {
    ...signed,
    generation: {
      schema,
      known: {
        idsByTable: byTable,
        nodeIds,
        integers: [store.telegramId, ...(await tenantJobIds(server.db, signed.tenant.id))],
        strings: [signed.owner.username, ...(await providerPaymentIds(server.db, signed.tenant.id))],
        email: signed.owner.email,
        slug: signed.tenant.slug,
      },
    },
  };
}

interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message?: string; extensions?: { code?: unknown } }>;
}

/** Sends one case as the owner and lists what is wrong with the answer (empty: nothing). */
async function problemsOf(mutation: string, graphqlCase: GraphqlCase, owner: Owner): Promise<string[]> {
  const variables = graphqlCase.variables === undefined ? "" : `,"variables":${graphqlCase.variables}`;
  const body = graphqlCase.body ?? `{"query":${JSON.stringify(graphqlCase.query)}${variables}}`;
  const headers = {
    "content-type": graphqlCase.contentType ?? "application/json",
    accept: graphqlCase.accept ?? "application/json",
    authorization: `Bearer ${await owner.freshToken()}`,
    ...graphqlCase.headers,
  };
  const before = await counts();
  const answer = await server.send({ method: "POST", path: "/graphql", headers, body });
  if (answer.status === 0 || !server.running())
    return [`no answer (${answer.text}); server running: ${server.running()}`];
  const problems: string[] = [];
  const logged = await server.takeErrorLines();
  if (logged.length > 0) problems.push(`the server logged errors: ${logged.join("\n").slice(0, 2000)}`);
  const json = answer.json as GraphqlAnswer | undefined;
  const errors = json?.errors ?? [];
  const codes = errors.map((error) => error.extensions?.code);
  tally(mutation, answer.status, {
    error: { code: codes.join("+") || undefined, message: errors.map((error) => error.message).join(" + ") },
  });
  if (!json) problems.push(`not a JSON answer: ${answer.status} ${answer.text.slice(0, 300)}`);
  if (answer.status >= 500 && !(answer.status === 503 && codes.every((code) => code === "SERVICE_UNAVAILABLE")))
    problems.push(`status ${answer.status}`);
  for (const code of codes) {
    if (typeof code !== "string") problems.push("an error without extensions.code");
    else if (!errorTable.has(code)) problems.push(`code ${code} is not in docs/errors.md`);
    else if (code === "INTERNAL") problems.push("code INTERNAL");
  }
  if (answer.status >= 400 && !codes.some((code) => errorTable.get(String(code)) === answer.status))
    problems.push(`status ${answer.status} is not the status of any of its codes (${codes.join(", ")})`);
  if (errors.length === 0) problems.push(...(await newPoison()));
  if (errors.length > 0 || !json?.data?.[mutation]) {
    const changes = countChanges(before, await counts());
    if (changes.length > 0) problems.push(`failed but wrote: ${changes.join("; ")}`);
  }
  if (problems.length > 0) problems.push(`answer: ${answer.status} ${answer.text.slice(0, 600)}`);
  return problems;
}

async function check(mutation: string, graphqlCase: GraphqlCase, owner: Owner): Promise<void> {
  const problems = await problemsOf(mutation, graphqlCase, owner);
  if (problems.length === 0) return;
  const file = saveFailure({ mutation, input: { ...graphqlCase } });
  throw new Error(
    `${mutation} ${shortly(graphqlCase)}\n- ${problems.join("\n- ")}\nthe whole input, as a regression: ${file}`,
  );
}

test("the schema has mutations to fuzz", () => {
  expect(mutations.length).toBeGreaterThan(30);
});

describe.each(mutations)("%s", (mutation) => {
  test("regressions, then generated and hostile input: documented codes, no INTERNAL, no partial write", async () => {
    const owner = await ownerWithStore();
    for (const regression of regressions.filter((entry) => entry.mutation === mutation))
      await check(mutation, regression.input as unknown as GraphqlCase, owner);
    await fc.assert(
      fc.asyncProperty(graphqlCases(mutation, owner.generation).map(shownShortly), (graphqlCase) =>
        check(mutation, graphqlCase, owner),
      ),
      fuzzParameters(RUNS),
    );
    await server.expectAlive();
  }, 120_000);
});

test("afterwards: the server is alive and logged no error", async () => {
  await server.expectAlive();
  expect(await server.takeErrorLines()).toEqual([]);
});
