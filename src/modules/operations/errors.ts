/**
 * The operations module's error codes, added to the one error table by the manifest. They are the
 * refusals of `npm run task -- backup` and `restore` (docs/operations.md, Backups): an operator reads
 * them as `CODE: message` on stderr, with exit code 1.
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const OPERATIONS_ERRORS = {
  BACKUP_TOOL_MISSING: {
    status: 500,
    message: "No pg_dump or pg_restore of the database server's major version was found.",
  },
  BACKUP_FAILED: { status: 500, message: "pg_dump failed; no backup was written." },
  BACKUP_FILE_INVALID: { status: 400, message: "The file is not a complete, readable backup." },
  RESTORE_TARGET_NOT_EMPTY: {
    status: 409,
    message: "The database already holds objects; restore into an empty database, or pass --clean.",
  },
  RESTORE_ROLES_MISMATCH: {
    status: 409,
    message: "The backup names roles that this database's configuration does not use.",
  },
  RESTORE_FAILED: { status: 500, message: "pg_restore failed; nothing was restored." },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof OPERATIONS_ERRORS, true> {}
}
