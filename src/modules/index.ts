/**
 * The one list of modules, in dependency order (a module comes after those it builds on). Adding a
 * module is one folder, its SQL file in migrations/current/ and one line here. Everything else
 * (GraphQL preset, REST routes, worker tasks and crontab, e-mail templates, configuration,
 * bootstrap, demo data, operator commands) is assembled from this list by the platform.
 */
import { knownVariables, loadConfig as loadPlatformConfig, type Config } from "../platform/config.ts";
import type { ModuleManifest } from "../platform/modules.ts";
import { broadcasts } from "./broadcasts/index.ts";
import { builds } from "./builds/index.ts";
import { commerce } from "./commerce/index.ts";
import { events } from "./events/index.ts";
import { identity } from "./identity/index.ts";
import { media } from "./media/index.ts";
import { messaging } from "./messaging/index.ts";
import { notifications } from "./notifications/index.ts";
import { operations } from "./operations/index.ts";
import { payments } from "./payments/index.ts";
import { subscriptions } from "./subscriptions/index.ts";
import { tenancy } from "./tenancy/index.ts";

export const MODULES: readonly ModuleManifest[] = [
  tenancy,
  identity,
  notifications,
  events,
  media,
  operations,
  commerce,
  payments,
  subscriptions,
  broadcasts,
  messaging,
  builds,
];

/** Validates the environment for the platform and every module (one error naming every problem). */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  return loadPlatformConfig(source, MODULES);
}

/** Every environment variable Tessera reads. */
export const KNOWN_VARIABLES: readonly string[] = knownVariables(MODULES);
