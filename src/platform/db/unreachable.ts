/**
 * Whether an error met at start-up says that the database could not be used at all — it does not
 * answer (what `isConnectionError` reads), it will not let us in (bad credentials, SQLSTATE class
 * 28; no such database, 3D000), or what answers is not PostgreSQL or refuses the URL's sslmode — as
 * opposed to an error of a statement. A command that meets one
 * tells the operator so in one line (`DATABASE_UNREACHABLE`), not with a stack trace.
 */
import { isConnectionError } from "../errors.ts";
import { connectTimeoutSetting } from "./pools.ts";

/** The driver's reason when `error` is one of these; undefined otherwise. */
export function unreachableReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const refused =
    (typeof code === "string" && /^(28...|3D000)$/.test(code)) ||
    // Something that is not PostgreSQL answered, or not the way the URL asks (sslmode).
    /^(The server does not support SSL connections|Received unexpected \S+ message from backend)/.test(error.message);
  if (!refused && !isConnectionError(error)) return undefined;
  if (error.message === "timeout expired") return `no answer within ${connectTimeoutSetting()}`;
  // Node's connect() to a name with several addresses fails with an AggregateError whose message is empty.
  const errors: unknown[] = error instanceof AggregateError ? error.errors : [];
  return error.message || errors.map((each) => (each instanceof Error ? each.message : String(each))).join("; ");
}
