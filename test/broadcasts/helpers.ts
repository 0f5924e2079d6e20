/**
 * The broadcasts tests' store: a tenant with an admin and a store bot whose Telegram token was set
 * through setBotToken (as an admin would), customers written directly, and the broadcast mutations.
 */
import { randomBytes, randomInt } from "node:crypto";
import type { TaskList } from "graphile-worker";
import type pg from "pg";
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { createStore, gql, type TestStore } from "../commerce/store.ts";
import type { TestApp } from "../helpers/app.ts";
import { runDueJobs } from "../helpers/jobs.ts";

/** A token shaped like BotFather's, generated for the test. */
export function newBotToken(): string {
  return `${randomInt(100_000, 2_000_000_000)}:${randomBytes(27).toString("base64url")}`;
}

export const SET_BOT_TOKEN = `mutation($botId: UUID!, $token: String!) {
  setBotToken(input: { botId: $botId, token: $token }) { bot { rowId } } }`;

export const CREATE_BROADCAST = `mutation($broadcast: BroadcastInput!) {
  createBroadcast(input: { broadcast: $broadcast }) { broadcast { rowId status } } }`;

export const CANCEL_BROADCAST = `mutation($id: UUID!) {
  cancelBroadcast(input: { id: $id }) { broadcast { rowId status } } }`;

export const BROADCAST_FIELDS = "rowId status totalCount pendingCount sentCount failedCount blockedCount";

export interface BroadcastStore extends TestStore {
  botToken: string;
}

export async function createBroadcastStore(app: TestApp, botToken = newBotToken()): Promise<BroadcastStore> {
  const store = await createStore(app);
  await gql(app, store.admin.token, SET_BOT_TOKEN, { botId: store.botId, token: botToken });
  return { ...store, botToken };
}

/** Customers of the tenant with these telegram ids (languages optional); returns their ids. */
export async function addCustomers(
  pool: pg.Pool,
  tenantId: string,
  telegramIds: number[],
  languageCode: string | null = null,
): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into app_public.customers (tenant_id, telegram_id, language_code)
     select $1, t, $3 from unnest($2::bigint[]) t returning id`,
    [tenantId, telegramIds, languageCode],
  );
  return rows.map((row) => row.id);
}

/** Telegram ids no other test of the file uses. */
let nextTelegramId = randomInt(1_000_000, 9_000_000) * 1000;
export function telegramIds(count: number): number[] {
  return Array.from({ length: count }, () => nextTelegramId++);
}

export async function createBroadcast(
  app: TestApp,
  token: string,
  broadcast: Record<string, unknown>,
): Promise<string> {
  const data = await gql(app, token, CREATE_BROADCAST, { broadcast });
  return data.createBroadcast.broadcast.rowId;
}

export function broadcastTasks(app: TestApp): TaskList {
  return makeTaskList({ modules: MODULES, mail: app.config.mail, logger: createLogger("silent"), config: app.config });
}

/** Runs due jobs until no broadcast job is left (the scheduler's jobs enqueue the deliveries). */
export async function runBroadcastJobs(app: TestApp, tasks: TaskList): Promise<void> {
  for (let round = 0; round < 10; round += 1) {
    await runDueJobs(app.db.ownerPool, tasks);
    const { rows } = await app.db.ownerPool.query<{ n: number }>(
      `select count(*)::int as n from graphile_worker.jobs
       where task_identifier in ('broadcast_schedule', 'broadcast_deliver') and run_at <= now()
         and attempts < max_attempts`,
    );
    if (rows[0]!.n === 0) return;
  }
  throw new Error("broadcast jobs still due after 10 rounds");
}

export async function broadcastRow(pool: pg.Pool, id: string) {
  const { rows } = await pool.query(
    `select status, total_count, pending_count, sent_count, failed_count, blocked_count
     from app_public.broadcasts where id = $1`,
    [id],
  );
  return rows[0] as {
    status: string;
    total_count: number;
    pending_count: number;
    sent_count: number;
    failed_count: number;
    blocked_count: number;
  };
}
