/**
 * Identity: users, roles and permissions. Members of a tenant see its people and roles; every change
 * goes through functions (createUser, deleteUser…), so no request role may write these tables.
 */
import { defineExpectations, NO_GRANT, OWN_ALL } from "../expectations.ts";

const MEMBERS_READ = {
  anonymous: "none",
  member: OWN_ALL,
  manager: OWN_ALL,
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: "denied",
} as const;

const READ_ONLY = { select: MEMBERS_READ, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT };

export default defineExpectations("identity", {
  // The catalogue of permissions, the same for every tenant.
  permissions: {
    shared: true,
    select: { anonymous: "all", member: "all", manager: "all", admin: "all", owner: "all", bot: "denied" },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
  role_permissions: READ_ONLY,
  roles: READ_ONLY,
  user_roles: READ_ONLY,
  users: READ_ONLY,
});
