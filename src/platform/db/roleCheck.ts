/**
 * The roles a configuration names, checked when a process starts, before it serves or works:
 *
 * - the API's request roles (`DATABASE_VISITOR`, `DATABASE_BOT`) exist and the authenticator may
 *   switch to them. A visitor role misspelt let the server start and answer `/ready`, then every
 *   request failed in PostgreSQL (`role … does not exist`, SQLSTATE 22023) and was answered
 *   VALIDATION_FAILED, the client blamed for the server's configuration, nothing logged;
 * - no role the process connects as is a superuser where the environment is hardened (stage,
 *   prod): a superuser is above row-level security and every grant. Elsewhere it is a warning.
 */
import type pg from "pg";
import { type DatabaseUrls, StartupError } from "../config.ts";
import type { Logger } from "../logger.ts";
import { withClient } from "./pools.ts";

export interface RoleCheckOptions {
  /** Stage or prod: a superuser connection refuses the start. */
  hardened: boolean;
  /** The API starts: its authenticator and request roles are checked too. */
  server: boolean;
}

/** The role a connection runs as, and whether it is a superuser. */
async function connectedRole(client: pg.Client): Promise<{ role: string; superuser: boolean }> {
  const { rows } = await client.query<{ role: string; superuser: boolean }>(
    "select current_user as role, rolsuper as superuser from pg_roles where rolname = current_user",
  );
  return rows[0]!;
}

function superuserProblem(variable: string, role: string, options: RoleCheckOptions, logger: Logger): void {
  const problem =
    `${variable}: the role ${role} is a superuser, above row-level security and every grant; ` +
    "connect as a role of its own (npm run migrate with ROOT_DATABASE_URL creates the roles the URLs name).";
  if (options.hardened) throw new StartupError(problem);
  logger.warn(problem);
}

export async function checkRuntimeRoles(urls: DatabaseUrls, options: RoleCheckOptions, logger: Logger): Promise<void> {
  const owner = await withClient(urls.ownerUrl, logger, "role check", connectedRole);
  if (owner.superuser) superuserProblem("DATABASE_URL", owner.role, options, logger);
  if (!options.server) return;
  await withClient(urls.authenticatorUrl, logger, "role check", async (client) => {
    const authenticator = await connectedRole(client);
    if (authenticator.superuser) superuserProblem("DATABASE_AUTHENTICATOR_URL", authenticator.role, options, logger);
    const requestRoles = [
      { variable: "DATABASE_VISITOR", role: urls.visitorRole },
      { variable: "DATABASE_BOT", role: urls.botRole },
    ];
    const { rows } = await client.query<{ role: string; exists: boolean; member: boolean }>(
      `select n.role, r.oid is not null as exists,
              r.oid is not null and pg_has_role(current_user, r.oid, 'MEMBER') as member
       from unnest($1::text[]) as n(role) left join pg_roles r on r.rolname = n.role`,
      [requestRoles.map(({ role }) => role)],
    );
    for (const { variable, role } of requestRoles) {
      const found = rows.find((row) => row.role === role);
      if (!found?.exists) {
        throw new StartupError(
          `${variable}: the role ${role} does not exist in the database; name an existing role, or let ` +
            "npm run migrate (with ROOT_DATABASE_URL) create it.",
        );
      }
      if (!found.member) {
        throw new StartupError(
          `${variable}: the authenticator ${authenticator.role} (DATABASE_AUTHENTICATOR_URL) cannot switch to ` +
            `the role ${role}: grant ${role} to ${authenticator.role}.`,
        );
      }
    }
  });
}
