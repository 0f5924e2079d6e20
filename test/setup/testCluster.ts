/**
 * The PostgreSQL server and migrated template database shared by one `npm test` run.
 * Embedded (a fresh throw-away cluster) unless TEST_DATABASE_URL names a superuser connection.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rolesFor } from "../../src/platform/db/cluster.ts";

export const TEST_ROLE_PREFIX = "tessera_test";
/** Test roles only; fixed so that concurrent runs against one server do not fight over passwords. */
export const testRoles = rolesFor(TEST_ROLE_PREFIX, {
  owner: "tessera-test-owner",
  authenticator: "tessera-test-authenticator",
});

export const ENV_ROOT_URL = "TESSERA_TEST_ROOT_URL";
export const ENV_TEMPLATE = "TESSERA_TEST_TEMPLATE";

export function newTemplateName(): string {
  return `tessera_test_tpl_${randomBytes(4).toString("hex")}`;
}

export function newClusterDir(): string {
  return join(mkdtempSync(join(tmpdir(), "tessera-test-")), "pg");
}
