/**
 * Commerce: the store. orders.read (manager, admin, owner) reads customers, orders and the ledger;
 * every member reads the catalogue; the store's bots read their tenant's store. Writes go through
 * functions, except the catalogue (catalog.manage: insert and update of granted columns, the tenant
 * taken from the caller) and a bot's settings (bots.manage: update).
 */
import { defineExpectations, NO_GRANT, OWN_ALL, OWN_WRITE } from "../expectations.ts";

const ORDERS_READ = {
  anonymous: "none",
  member: "none",
  manager: OWN_ALL,
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: OWN_ALL,
} as const;

const MEMBERS_AND_BOTS_READ = {
  anonymous: "none",
  member: OWN_ALL,
  manager: OWN_ALL,
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: OWN_ALL,
} as const;

const CATALOG_UPDATE = {
  anonymous: "none",
  member: "none",
  manager: OWN_WRITE,
  admin: OWN_WRITE,
  owner: OWN_WRITE,
  bot: "denied",
} as const;

const READ_ONLY = { select: ORDERS_READ, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT };

export default defineExpectations("commerce", {
  // apikeys.manage only; a key's secret is never in this table.
  api_keys: {
    select: { anonymous: "none", member: "none", manager: "none", admin: OWN_ALL, owner: OWN_ALL, bot: "denied" },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
  bots: {
    select: ORDERS_READ,
    insert: NO_GRANT,
    update: { anonymous: "none", member: "none", manager: "none", admin: OWN_WRITE, owner: OWN_WRITE, bot: "denied" },
    delete: NO_GRANT,
  },
  // A copy of the other tenant's top category lands in the caller's tenant ("redirected"); of its
  // subcategory, the tenant-consistent foreign key to its parent refuses it.
  categories: {
    select: MEMBERS_AND_BOTS_READ,
    insert: {
      anonymous: "denied",
      member: "denied",
      manager: ["allowed", "redirected"],
      admin: ["allowed", "redirected"],
      owner: ["allowed", "redirected"],
      bot: "denied",
    },
    update: CATALOG_UPDATE,
    delete: NO_GRANT,
  },
  customer_balances: READ_ONLY,
  customers: READ_ONLY,
  order_items: READ_ONLY,
  orders: READ_ONLY,
  // A copy of the other tenant's product points at its category: the tenant-consistent key refuses it.
  products: {
    select: MEMBERS_AND_BOTS_READ,
    insert: {
      anonymous: "denied",
      member: "denied",
      manager: ["allowed", "refused"],
      admin: ["allowed", "refused"],
      owner: ["allowed", "refused"],
      bot: "denied",
    },
    update: CATALOG_UPDATE,
    delete: NO_GRANT,
  },
  // The ledger is append-only, written by functions only.
  transactions: READ_ONLY,
});
