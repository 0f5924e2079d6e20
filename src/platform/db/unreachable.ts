/**
 * Whether an error met at start-up says that the database could not be used at all — it does not
 * answer (what `isConnectionError` reads), it will not let us in (bad credentials, SQLSTATE class
 * 28; no such database, 3D000), or what answers is not PostgreSQL or refuses the URL's sslmode — as
 * opposed to an error of a statement. A command that meets one
 * tells the operator so in one line (`DATABASE_UNREACHABLE`), not with a stack trace.
 */
import { StartupError } from "../config.ts";
import { isConnectionError } from "../errors.ts";
import { connectTimeoutSetting } from "./pools.ts";

/** The driver's reason when `error` is one of these; undefined otherwise. */
export function unreachableReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const refused =
    (typeof code === "string" && /^(28...|3D000)$/.test(code)) ||
    // No CONNECT privilege on the database: refused at the door, like a wrong password.
    (code === "42501" && /^permission denied for database/.test(error.message)) ||
    // Something that is not PostgreSQL answered, or not the way the URL asks (sslmode).
    /^(The server does not support SSL connections|Received unexpected \S+ message from backend)/.test(error.message);
  if (!refused && !isConnectionError(error)) return undefined;
  if (error.message === "timeout expired") return `no answer within ${connectTimeoutSetting()}`;
  // Node's connect() to a name with several addresses fails with an AggregateError whose message is empty.
  const errors: unknown[] = error instanceof AggregateError ? error.errors : [];
  return error.message || errors.map((each) => (each instanceof Error ? each.message : String(each))).join("; ");
}

/**
 * Runs one step of bringing a database to this code's schema (roles, the database, migrations). A
 * statement the database refuses there — a role without the privilege, an object owned by another
 * role, a damaged migration log — is the operator's to fix, not a crash: it becomes one line,
 * `MIGRATION_FAILED: <step>: <the database's message> (SQLSTATE …).`, and exit 1 at boot. An
 * unreachable database keeps its own line.
 */
export async function migrationStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StartupError || unreachableReason(error) !== undefined || !(error instanceof Error))
      throw error;
    const code = (error as { code?: unknown }).code;
    const sqlstate = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : "";
    const message = error.message.replace(/\.$/, "").replace(/\s+/g, " ");
    throw new StartupError(`MIGRATION_FAILED: ${step}: ${message}${sqlstate}.`, { cause: error });
  }
}
