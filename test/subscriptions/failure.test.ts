/**
 * The provider failing: the issuing job fails, graphile-worker retries it with its exponential
 * backoff, the tenant's admins see it in failedJobs with the provider's error, and once the provider
 * answers again the subscription is issued exactly once. Out of attempts, the subscription is failed
 * until an admin retries the job.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type ContmsServer, startContmsServer } from "../helpers/contmsServer.ts";
import { bot, createStore, gql, type TestStore } from "../commerce/store.ts";
import { buy, planProduct, runJobs, syncNow } from "./shop.ts";

let contms: ContmsServer;
let app: TestApp;
let store: TestStore;
let vpnId: string;

beforeAll(async () => {
  contms = await startContmsServer();
  contms.products = [{ id: "vpn-30", name: "VPN", price: "9.99", currency: "USD", durationDays: 30 }];
  app = await startTestApp({ env: contms.env });
  store = await createStore(app);
  await syncNow(app);
  vpnId = (await planProduct(app.db.ownerPool, store.tenant.id, "vpn-30"))!.id;
});
afterAll(async () => {
  await app.stop();
  await contms.stop();
});

interface JobRow {
  id: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: Date;
}

const jobOf = async (subscriptionId: string): Promise<JobRow | undefined> =>
  (
    await app.db.ownerPool.query<JobRow>(
      "select id::text, attempts, max_attempts, last_error, run_at from graphile_worker.jobs where key = $1",
      [`issue_subscription:${subscriptionId}`],
    )
  ).rows[0];

const subscriptionOf = async (orderId: string) =>
  (
    await app.db.ownerPool.query<{ id: string; status: string; provider_subscription_id: string | null }>(
      "select id, status, provider_subscription_id from app_public.subscriptions where order_id = $1",
      [orderId],
    )
  ).rows[0]!;

const dbNow = async () => (await app.db.ownerPool.query<{ now: Date }>("select clock_timestamp() as now")).rows[0]!.now;

/** Runs the due jobs and returns the database's clock before and after. */
async function runTimed(): Promise<{ before: Date; after: Date }> {
  const before = await dbNow();
  await runJobs(app);
  return { before, after: await dbNow() };
}

/** The next attempt is due now: the backoff has passed. */
const timePasses = (jobId: string) =>
  app.db.ownerPool.query("update graphile_worker._private_jobs set run_at = now() where id = $1", [jobId]);

const FAILED = "{ failedJobs { nodes { rowId task attempts maxAttempts lastError tenantId } } }";

test("a failing provider: retried with backoff, listed as failing, then issued exactly once", async () => {
  contms.failIssues(2);
  const { orderId } = await buy(app, store, 8001, vpnId);
  const first = await runTimed();
  const subscription = await subscriptionOf(orderId);
  expect(subscription.status).toBe("pending");
  const job = (await jobOf(subscription.id))!;
  expect(job).toMatchObject({ attempts: 1, max_attempts: 10 });
  expect(job.last_error).toContain("Contms POST /subscriptions answered 500");
  // graphile-worker's backoff: the next attempt e^attempts seconds after the failure.
  const delay = (attempts: number) => Math.exp(attempts) * 1000;
  expect(job.run_at.getTime()).toBeGreaterThanOrEqual(first.before.getTime() + delay(1) - 1);
  expect(job.run_at.getTime()).toBeLessThanOrEqual(first.after.getTime() + delay(1) + 1);

  // The store's admin sees it in the failed-jobs view, with the provider's error.
  const failed = await gql(app, store.admin.token, FAILED);
  expect(failed.failedJobs.nodes).toContainEqual({
    rowId: job.id,
    task: "issue_subscription",
    attempts: 1,
    maxAttempts: 10,
    lastError: expect.stringContaining("answered 500"),
    tenantId: store.tenant.id,
  });
  const waiting = await bot(app, store).get("/api/bot/customers/8001/subscriptions");
  expect(waiting.body.items).toEqual([expect.objectContaining({ status: "pending", credentials: null })]);

  await timePasses(job.id);
  const second = await runTimed();
  const again = (await jobOf(subscription.id))!;
  expect(again.attempts).toBe(2);
  expect(again.run_at.getTime()).toBeGreaterThanOrEqual(second.before.getTime() + delay(2) - 1);
  expect(again.run_at.getTime()).toBeLessThanOrEqual(second.after.getTime() + delay(2) + 1);

  // The provider is back: the third attempt issues it, once.
  await timePasses(job.id);
  await runJobs(app);
  const issued = await subscriptionOf(orderId);
  expect(issued.status).toBe("active");
  expect(await jobOf(subscription.id)).toBeUndefined();
  expect(contms.calls(subscription.id)).toBe(3);
  expect(issued.provider_subscription_id).toBe(contms.issued.get(subscription.id)!.id);
  expect(
    (await gql(app, store.admin.token, FAILED)).failedJobs.nodes.map((node: { rowId: string }) => node.rowId),
  ).not.toContain(job.id);

  // A job for it again (a duplicate, a replay) changes nothing and never asks the provider.
  await app.db.ownerPool.query("select graphile_worker.add_job('issue_subscription', $1::json)", [
    JSON.stringify({ subscriptionId: subscription.id, tenantId: store.tenant.id }),
  ]);
  await runJobs(app);
  expect(contms.calls(subscription.id)).toBe(3);
  const stored = await app.db.ownerPool.query(
    "select count(*)::int as n from app_private.subscription_credentials where subscription_id = $1",
    [subscription.id],
  );
  expect(stored.rows[0].n).toBe(1);
  const listed = await bot(app, store).get("/api/bot/customers/8001/subscriptions");
  expect(listed.body.items[0].credentials.password).toBe(contms.issued.get(subscription.id)!.password);
});

test("an answer lost after the provider issued: the retry sends the same reference and gets the same one", async () => {
  const { orderId } = await buy(app, store, 8002, vpnId);
  await runJobs(app);
  const subscription = await subscriptionOf(orderId);
  const providerId = contms.issued.get(subscription.id)!.id;
  // As if the worker died after the provider answered, before its transaction committed.
  await app.db.ownerPool.query("delete from app_private.subscription_credentials where subscription_id = $1", [
    subscription.id,
  ]);
  await app.db.ownerPool.query(
    "update app_public.subscriptions set status = 'pending', provider_subscription_id = null where id = $1",
    [subscription.id],
  );
  await app.db.ownerPool.query("select graphile_worker.add_job('issue_subscription', $1::json)", [
    JSON.stringify({ subscriptionId: subscription.id }),
  ]);
  await runJobs(app);
  expect(contms.calls(subscription.id)).toBe(2);
  expect(await subscriptionOf(orderId)).toMatchObject({ status: "active", provider_subscription_id: providerId });
});

test("out of attempts the subscription is failed; an admin's retry issues it", async () => {
  contms.failIssues(1);
  const { orderId } = await buy(app, store, 8003, vpnId);
  await runJobs(app, app.config, ["domain_event"]);
  const subscription = await subscriptionOf(orderId);
  const job = (await jobOf(subscription.id))!;
  // Nine attempts already failed: this run is the last.
  await app.db.ownerPool.query("update graphile_worker._private_jobs set attempts = 9 where id = $1", [job.id]);
  await runJobs(app);
  expect((await subscriptionOf(orderId)).status).toBe("failed");
  const failed = await gql(app, store.admin.token, FAILED);
  expect(failed.failedJobs.nodes).toContainEqual(
    expect.objectContaining({ rowId: job.id, attempts: 10, maxAttempts: 10, lastError: expect.any(String) }),
  );
  const listed = await bot(app, store).get("/api/bot/customers/8003/subscriptions?filter[status]=failed");
  expect(listed.body.items).toEqual([expect.objectContaining({ id: subscription.id, status: "failed" })]);

  await gql(app, store.admin.token, "mutation($id: BigInt!) { retryJob(input: { jobId: $id }) { job { rowId } } }", {
    id: job.id,
  });
  await runJobs(app);
  expect((await subscriptionOf(orderId)).status).toBe("active");
});

test("an id the provider gave another of our subscriptions is refused: the job fails, nothing stored", async () => {
  const first = await buy(app, store, 8004, vpnId);
  await runJobs(app);
  const taken = await subscriptionOf(first.orderId);
  expect(taken.status).toBe("active");
  const second = await buy(app, store, 8005, vpnId);
  await runJobs(app, app.config, ["domain_event"]);
  const subscription = await subscriptionOf(second.orderId);
  // A provider that answers the second reference with the first one's subscription (its account).
  contms.issued.set(subscription.id, contms.issued.get(taken.id)!);
  await runJobs(app);

  // Fails on the code before the fix: both were active, with one account between two customers.
  expect(await subscriptionOf(second.orderId)).toMatchObject({ status: "pending", provider_subscription_id: null });
  const job = (await jobOf(subscription.id))!;
  expect(job.last_error?.split("\n")[0]).toBe(
    "Contms answered with the id of a subscription it issued for another of ours; not stored",
  );
  const stored = await app.db.ownerPool.query(
    "select count(*)::int as n from app_private.subscription_credentials where subscription_id = $1",
    [subscription.id],
  );
  expect(stored.rows[0].n).toBe(0);
  expect(await subscriptionOf(first.orderId)).toEqual(taken);
  const listed = await bot(app, store).get("/api/bot/customers/8005/subscriptions");
  expect(listed.body.items).toEqual([expect.objectContaining({ status: "pending", credentials: null })]);
});
