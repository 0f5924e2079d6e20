/** Platform operators: named only from the server's command line; no API writes this table. */
import type { BootstrapContext, BootstrapStep } from "../../platform/modules.ts";
import { AppError } from "../../platform/errors.ts";

async function liveUserId(context: BootstrapContext, email: string): Promise<string> {
  const { rows } = await context.client.query<{ id: string }>(
    "select id from app_public.users where tenant_id = $1 and email = $2 and deleted_at is null and not is_system",
    [context.tenantId, email],
  );
  if (!rows[0]) throw new AppError("NOT_FOUND", `No user ${email} in tenant ${context.tenantSlug}.`);
  return rows[0].id;
}

/** What each option does: its SQL function, and the report when it changed something or not. */
const CHANGES = [
  {
    option: "operator",
    sql: "select app_private.grant_platform_operator($1) as changed",
    done: "granted",
    noop: "exists",
  },
  {
    option: "revoke-operator",
    sql: "select app_private.revoke_platform_operator($1) as changed",
    done: "revoked",
    noop: "was not an operator",
  },
] as const;

/** `--operator <e-mail>` grants, `--revoke-operator <e-mail>` revokes; nothing happens without them. */
export const operatorStep: BootstrapStep = {
  name: "platform operator",
  async run(context) {
    for (const change of CHANGES) {
      const email = context.options[change.option];
      if (email === undefined) continue;
      const userId = await liveUserId(context, email);
      const { rows } = await context.client.query<{ changed: boolean }>(change.sql, [userId]);
      context.report.push(`operator ${email}: ${rows[0]?.changed ? change.done : change.noop}`);
    }
  },
};
