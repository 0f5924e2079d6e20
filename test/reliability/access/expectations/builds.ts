/** Builds: builds.manage (admin, owner) reads builds, their logs and releases; the worker writes them. */
import { defineExpectations, NO_GRANT, OWN_ALL } from "../expectations.ts";

const BUILDS_READ = {
  anonymous: "none",
  member: "none",
  manager: "none",
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: "denied",
} as const;

const READ_ONLY = { select: BUILDS_READ, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT };

export default defineExpectations("builds", {
  build_log_lines: READ_ONLY,
  builds: READ_ONLY,
  releases: READ_ONLY,
});
