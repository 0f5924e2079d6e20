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

/** `--operator <e-mail>` grants, `--revoke-operator <e-mail>` revokes; nothing happens without them. */
export const operatorStep: BootstrapStep = {
  name: "platform operator",
  async run(context) {
    const { operator, "revoke-operator": revoke } = context.options;
    if (operator !== undefined) {
      const userId = await liveUserId(context, operator);
      const { rows } = await context.client.query<{ changed: boolean }>(
        "select app_private.grant_platform_operator($1) as changed",
        [userId],
      );
      context.report.push(`operator ${operator}: ${rows[0]?.changed ? "granted" : "exists"}`);
    }
    if (revoke !== undefined) {
      const userId = await liveUserId(context, revoke);
      const { rows } = await context.client.query<{ changed: boolean }>(
        "select app_private.revoke_platform_operator($1) as changed",
        [userId],
      );
      context.report.push(`operator ${revoke}: ${rows[0]?.changed ? "revoked" : "was not an operator"}`);
    }
  },
};
