/**
 * The roles a configuration names are checked when a process starts: the request roles exist and the
 * authenticator may switch to them; a superuser connection refuses a hardened start and is a warning
 * elsewhere.
 */
import { MODULES } from "../../src/modules/index.ts";
import { startAll } from "../../src/platform/app.ts";
import { loadConfig, StartupError } from "../../src/platform/config.ts";
import { checkRuntimeRoles } from "../../src/platform/db/roleCheck.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { freePort } from "../../src/platform/system.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { TEST_JWT_SECRET } from "../helpers/fixtures.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const silent = createLogger("silent");
const roleOf = (url: string) => decodeURIComponent(new URL(url).username);

/** What startAll (the API, no worker) says of the test database's roles with `env` added. */
async function startWith(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const config = loadConfig(
    {
      APP_ENV: "test",
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: String(port),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      ...env,
    },
    MODULES,
  );
  try {
    const app = await startAll({
      config,
      logger: silent,
      modules: MODULES,
      migrate: false,
      seed: false,
      worker: false,
    });
    await app.stop();
    return "started";
  } catch (error) {
    expect(error).toBeInstanceOf(StartupError);
    // Nothing was left listening on the port.
    await expect(fetch(`http://127.0.0.1:${port}/ready`)).rejects.toThrow();
    return (error as Error).message;
  }
}

test("the configured roles start; a request role that does not exist refuses the start, naming it", async () => {
  // Fails on the code before: the server started, and every request was VALIDATION_FAILED.
  expect(await startWith({})).toBe("started");
  expect(await startWith({ DATABASE_VISITOR: "tessera_no_such_visitor" })).toBe(
    "DATABASE_VISITOR: the role tessera_no_such_visitor does not exist in the database; name an existing " +
      "role, or let npm run migrate (with ROOT_DATABASE_URL) create it.",
  );
  expect(await startWith({ DATABASE_BOT: "tessera_no_such_bot" })).toMatch(
    /^DATABASE_BOT: the role tessera_no_such_bot /,
  );
});

test("a request role the authenticator cannot switch to refuses the start", async () => {
  const owner = roleOf(db.urls.ownerUrl);
  const authenticator = roleOf(db.urls.authenticatorUrl);
  expect(await startWith({ DATABASE_BOT: owner })).toBe(
    `DATABASE_BOT: the authenticator ${authenticator} (DATABASE_AUTHENTICATOR_URL) cannot switch to the role ` +
      `${owner}: grant ${owner} to ${authenticator}.`,
  );
});

test("a superuser connection refuses a hardened start and is a warning elsewhere", async () => {
  const lines: string[] = [];
  const logger = createLogger("warn", "tessera", { write: (line: string) => void lines.push(line) });
  const superuser = roleOf(db.urls.rootUrl!);
  const asOwner = { ...db.urls, ownerUrl: db.urls.rootUrl! };
  await expect(checkRuntimeRoles(asOwner, { hardened: true, server: false }, logger)).rejects.toThrow(
    new StartupError(
      `DATABASE_URL: the role ${superuser} is a superuser, above row-level security and every grant; connect ` +
        "as a role of its own (npm run migrate with ROOT_DATABASE_URL creates the roles the URLs name).",
    ),
  );
  const asAuthenticator = { ...db.urls, authenticatorUrl: db.urls.rootUrl! };
  await expect(checkRuntimeRoles(asAuthenticator, { hardened: true, server: true }, logger)).rejects.toThrow(
    /^DATABASE_AUTHENTICATOR_URL: the role \S+ is a superuser/,
  );
  expect(lines).toEqual([]);
  await checkRuntimeRoles(asOwner, { hardened: false, server: true }, logger);
  expect(lines.map((line) => JSON.parse(line) as { level: number; msg: string })).toEqual([
    expect.objectContaining({ level: 40, msg: expect.stringMatching(/^DATABASE_URL: the role \S+ is a superuser/) }),
  ]);
  // The test database's own roles: nothing to say.
  await checkRuntimeRoles(db.urls, { hardened: true, server: true }, logger);
  expect(lines).toHaveLength(1);
});
