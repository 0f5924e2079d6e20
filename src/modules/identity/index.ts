/**
 * Identity: users, roles and permissions, sessions with rotating refresh tokens, registration,
 * password reset, two-factor authentication — one AuthService behind GraphQL mutations and the
 * /api/auth and /api/users routes — and its housekeeping jobs, e-mails, bootstrap and demo users.
 */
import type { ModuleManifest, Queryable } from "../../platform/modules.ts";
import { IDENTITY_API } from "./api.ts";
import type { Consumer } from "../../platform/worker/consumers.ts";
import { ownerStep, seedDemoUsers } from "./accounts.ts";
import { makeCaptchaVerifier } from "./captcha.ts";
import { identityConfig } from "./config.ts";
import { IDENTITY_ERRORS } from "./errors.ts";
import { IdentityPlugin } from "./graphql.ts";
import { authRoutes } from "./restAuth.ts";
import { userRoutes } from "./restUsers.ts";
import { AuthService } from "./service.ts";
import { cleanupCommand, cleanupExpired, scrubUser } from "./tasks.ts";
import { IDENTITY_TEMPLATES } from "./templates.ts";

/** A tenant's built-in roles (owner, admin, manager, member), their permissions and its system user. */
async function ensureTenantIdentity(db: Queryable, tenantId: string): Promise<void> {
  await db.query("select app_private.ensure_tenant_identity($1)", [tenantId]);
}

const tenantIdentity: Consumer = {
  name: "tenant_identity",
  handle: (client, event) => ensureTenantIdentity(client, event.tenant_id!),
  handleMany: async (client, events) => {
    await client.query("select app_private.ensure_tenant_identities($1::uuid[])", [
      events.map((event) => event.tenant_id!),
    ]);
  },
};

export const identity: ModuleManifest = {
  name: "identity",
  config: identityConfig,
  errors: IDENTITY_ERRORS,
  graphqlPlugins: [IdentityPlugin],
  api: IDENTITY_API,
  expensiveMutations: [
    "register",
    "confirmRegistration",
    "login",
    "verifyTwoFactor",
    "refreshSession",
    "changePassword",
    "forgotPassword",
    "resetPassword",
    "enableTwoFactor",
    "confirmTwoFactor",
    "disableTwoFactor",
  ],
  server({ config, logger, ownerPool, checkSession }) {
    const settings = { ...identityConfig.of(config), jwtSecret: config.jwtSecret };
    const captcha = settings.captchaApiUrl ? makeCaptchaVerifier(settings.captchaApiUrl, logger) : undefined;
    const auth = new AuthService(ownerPool, settings, logger, checkSession, captcha);
    return {
      graphqlContext: { auth },
      routes: (runOperation) => [authRoutes(auth), userRoutes(runOperation)],
    };
  },
  tasks: { scrub_user: scrubUser, cleanup_expired: cleanupExpired },
  consumers: { tenant_created: [tenantIdentity] },
  crontab: ["17 3 * * * cleanup_expired ?id=cleanup_expired&max=3"],
  emailTemplates: IDENTITY_TEMPLATES,
  bootstrap: [ownerStep],
  seed: seedDemoUsers,
  prepareTenant: ensureTenantIdentity,
  commands: { cleanup: cleanupCommand },
};
