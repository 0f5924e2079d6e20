/**
 * What a module is: one object (its manifest) that declares everything the module adds to the
 * platform. The platform never imports a module; the composition root (src/modules/index.ts) hands
 * the list of manifests to the functions that assemble the server, the worker, the configuration,
 * the bootstrap, the demo seed and the operator commands.
 */
import type { Router } from "express";
import type { JobHelpers } from "graphile-worker";
import type pg from "pg";
import type { SessionCheck } from "./auth/sessionCheck.ts";
import type { z } from "zod";
import type { Command } from "./commands.ts";
import type { Config, ConfigFragment, DatabaseUrls } from "./config.ts";
import type { EmailTemplate } from "./email/templates.ts";
import { registerErrors, type ErrorSpec } from "./errors.ts";
import type { OperationRunner } from "./graphql/execute.ts";
import type { Implementation, RouteSpec } from "./http/routeSpec.ts";
import type { Logger } from "./logger.ts";
import type { Consumer } from "./worker/consumers.ts";

export type Queryable = pg.Pool | pg.ClientBase;

/** What a module's request-time part is given when the server starts. */
export interface ServerContext {
  config: Config;
  logger: Logger;
  /** Owner role (not a superuser): SQL functions of app_private, run on behalf of requests. */
  ownerPool: pg.Pool;
  /** The authenticator pool PostGraphile uses. */
  requestPool: pg.Pool;
  /** The database's connection strings and role names (modules that switch roles read them). */
  database: DatabaseUrls;
  /**
   * The session check every request passes when its headers arrive. A write that Node makes through
   * the owner pool on a caller's behalf checks again right before it (the request's body may have
   * taken minutes to arrive, and the session may have ended meanwhile): SQL run as the request's
   * role needs no such call, since RLS reads the live session itself.
   */
  checkSession: SessionCheck;
}

/** The request-time part of a module: REST routes and values every GraphQL request can read. */
export interface ModuleServer {
  /** Added to every GraphQL request's context (`context().get(name)` in plans). */
  graphqlContext?: Record<string, unknown>;
  /** Routers mounted under /api once GraphQL is ready; they may run GraphQL documents in-process. */
  routes?(runOperation: OperationRunner): Router[];
  /** Routers mounted under /api before the body parsers: they read (stream) their bodies themselves. */
  streamingRoutes?: Router[];
  /**
   * Handlers of the manifest's `api` specs (`implement(spec, handler)`), mounted by the platform:
   * streaming (multipart) ones before the body parsers, the others after them.
   */
  implementations?(runOperation: OperationRunner): Implementation[];
  close?(): Promise<void>;
}

/** `npm run init`: what its steps share. */
export interface BootstrapContext {
  client: pg.ClientBase;
  tenantSlug: string;
  tenantName: string;
  /** The command line's other options by name (`--email`, `--operator`…), for the steps that read them. */
  options: Readonly<Record<string, string | undefined>>;
  /** Filled by the tenant step, read by later steps. */
  tenantId?: string;
  /** Every module's prepareTenant: roles, permissions, module rows… of a tenant, at once. */
  prepareTenant(tenantId: string): Promise<void>;
  /** Lines to show once (secrets included), or "exists" notes. */
  report: string[];
}

export interface BootstrapStep {
  name: string;
  run(context: BootstrapContext): Promise<void>;
}

/**
 * What a task is given besides its payload: the worker's configuration (absent when a task list is
 * made without one, as some tests do; a task that needs its module's settings then does nothing or
 * fails, as it documents).
 */
export interface TaskContext {
  config?: Config;
}

/** A worker task whose payload is validated before it runs. */
export interface TaskDefinition<Payload = unknown> {
  payload: z.ZodType<Payload>;
  run(payload: Payload, helpers: JobHelpers, context: TaskContext): Promise<void>;
}

/**
 * A worker runner of a module's own, for tasks that wait on one outside service: that service,
 * slow or silent, fills only these slots, and every other task keeps the shared ones. Without a
 * local queue: a job is locked only when a slot is free to run it.
 */
export interface ModuleRunner {
  /** The module's own task identifiers it runs; no other runner runs them. */
  tasks: readonly string[];
  /** Its job slots in each worker process (the configuration is absent in some tests). */
  concurrency(config: Config | undefined): number;
}

/** A demo-data step's view; the first step (the tenant's) sets the tenant, later ones add to it. */
export interface SeedContext {
  client: pg.ClientBase;
  /** The demo tenant; set by the step that creates it. */
  tenant?: { id: string; slug: string };
  /** Demo users, filled by the step that creates them and read by later steps. */
  users: Array<{ id: string; email: string; role: string }>;
  /** Lines for the start-up banner; `{base}` in a line becomes the server's base URL. */
  banner: string[];
  /** The configuration of the process that seeds (absent when a test seeds without one). */
  config?: Config;
  /** Every module's prepareTenant. */
  prepareTenant(tenantId: string): Promise<void>;
}

/** What a development service is given (see ModuleManifest.devService). */
export interface DevServiceContext {
  /** The configuration so far (earlier modules' services may have filled some of it in). */
  config: Config;
  logger: Logger;
  /** Where the API is about to listen, from this machine: `http://127.0.0.1:<PORT>`. */
  apiUrl: string;
}

/** A service a module started beside the API for development. */
export interface DevService {
  /** The configuration the API, the seed and the worker use from now on (e.g. with the service's URL). */
  config?: Config;
  /** Lines for the start-up banner. */
  banner?: string[];
  stop(): Promise<void>;
}

export interface ModuleManifest {
  /** Folder name; also the module's row in app_public.modules when tenants can toggle it. */
  name: string;
  /** Environment variables the module reads. */
  config?: ConfigFragment<unknown>;
  /** Error codes the module adds to the one error table. */
  errors?: Record<string, ErrorSpec>;
  /** PostGraphile plugins (schema extensions). Built without a database: they must not need one. */
  graphqlPlugins?: GraphileConfig.Plugin[];
  /**
   * Root mutations that cost the server real work (argon2, a rate-limited check, an e-mail): a
   * request may select at most one of them (the GraphQL limits).
   */
  expensiveMutations?: string[];
  /**
   * The module's REST routes as data (`defineRoute`, usually in its api.ts): the OpenAPI document
   * is built from them; `server()` implements each one (the server refuses to start otherwise).
   */
  api?: readonly RouteSpec[];
  /** REST routes and request-time services. */
  server?(context: ServerContext): ModuleServer | Promise<ModuleServer>;
  /** graphile-worker tasks, by identifier. */
  tasks?: Record<string, TaskDefinition<unknown>>;
  /** Runners of its own, by name (shown in app_private.worker_pools), for some of its tasks. */
  runners?: Record<string, ModuleRunner>;
  /** Domain-event type → consumers, run in module-list order. */
  consumers?: Record<string, Consumer[]>;
  /** graphile-worker crontab lines (UTC), each with an explicit `?id=`. */
  crontab?: string[];
  /** E-mail templates by name (send_email jobs name one). */
  emailTemplates?: Record<string, EmailTemplate>;
  /** `npm run init` steps, run in module-list order in one transaction. */
  bootstrap?: BootstrapStep[];
  /** Demo data for `npm start` and `npm run seed`, in module-list order, in one transaction. */
  seed?(context: SeedContext): Promise<void>;
  /** What a new tenant needs at once (the tenant_created consumers do the same later). Idempotent. */
  prepareTenant?(db: Queryable, tenantId: string): Promise<void>;
  /** `npm run task -- <name>` commands. */
  commands?: Record<string, Command>;
  /**
   * `npm start` outside stage and prod: a service the module starts in the same process before the
   * API (a stand-in for an external party the developer would otherwise run by hand), or undefined
   * when the configuration needs none. Stopped after the API and the worker.
   */
  devService?(context: DevServiceContext): Promise<DevService | undefined>;
  /** Values database triggers read from app_private.settings; written when the server starts. */
  runtimeSettings?(config: Config): Record<string, string | number | boolean>;
}

/** Merges one record per module into one, refusing a key declared twice (two modules, one name). */
export function mergeRecords<T>(
  what: string,
  modules: readonly ModuleManifest[],
  pick: (module: ModuleManifest) => Record<string, T> | undefined,
  base: Record<string, T> = {},
): Record<string, T> {
  const merged: Record<string, T> = { ...base };
  for (const module of modules) {
    for (const [key, value] of Object.entries(pick(module) ?? {})) {
      if (key in merged) throw new Error(`${what} ${JSON.stringify(key)} is declared twice (module ${module.name})`);
      merged[key] = value;
    }
  }
  return merged;
}

/** Runs every module's prepareTenant: a tenant usable at once. */
export async function prepareTenant(
  modules: readonly ModuleManifest[],
  db: Queryable,
  tenantId: string,
): Promise<void> {
  for (const module of modules) await module.prepareTenant?.(db, tenantId);
}

/** What every process does with its module list first: the modules' error codes join the table. */
export function registerModules(modules: readonly ModuleManifest[]): void {
  for (const module of modules) if (module.errors) registerErrors(module.errors);
}
