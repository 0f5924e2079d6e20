/**
 * Prometheus metrics (prom-client) for `GET /metrics`: HTTP requests by route template, GraphQL
 * operations by name and outcome, worker jobs by task and outcome, queue depth, pool usage, and
 * Node's default process metrics. One registry per server, so tests and processes never mix.
 *
 * Every label value comes from a fixed set, never from what a client chose: a route template of
 * ours or `unmatched`, a standard method or `other`, a status code, and an operation name only
 * when the operation is one of ours (or an allow-listed persisted one) — anything else is `other`.
 * Otherwise each new name or path a client sends would add series to every scrape, without bound.
 */
import type { NextFunction, Request, Response } from "express";
import type { Runner } from "graphile-worker";
import type pg from "pg";
import { Counter, Gauge, Histogram, type LabelValues, Registry, collectDefaultMetrics } from "prom-client";
import { Kind, type DocumentNode } from "postgraphile/graphql";
import * as generated from "../generated/graphql.ts";

const QUEUE_STATES = ["pending", "retrying", "locked", "failed"] as const;
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Methods labelled as themselves; any other (PROPFIND, MKCOL, …) is `other`. */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The label for names outside the known set. */
export const OTHER = "other";

/**
 * The documents the server's own code runs (the REST shims' generated documents), known by identity:
 * a client may send a document of the same name, which must not be counted as ours.
 */
const OWN_DOCUMENTS: ReadonlySet<DocumentNode> = new Set(Object.values(generated).filter(isDocument));

/**
 * A count and a duration histogram of one kind of event (HTTP responses, GraphQL operations) by
 * label set, kept as plain numbers per label set and handed to the registry as the two metrics
 * prom-client's `Counter` and `Histogram` would expose: same names, types, labels and text. The
 * request path pays a map lookup and three additions; prom-client's own `observe` checks and hashes
 * the labels object on every call (about 2 % of a small query's CPU). Label values come from bounded
 * sets (methods, route templates, statuses, operation names), so the label sets are bounded too.
 */
class Timings<Name extends string> {
  readonly #sets = new Map<string, { labels: Record<Name, string>; count: number; sum: number; buckets: number[] }>();

  constructor(registry: Registry, counter: { name: string; help: string }, histogram: { name: string; help: string }) {
    const counted = () =>
      [...this.#sets.values()].map(({ labels, count }) => ({ labels: labels as LabelValues<string>, value: count }));
    const bucketName = `${histogram.name}_bucket`;
    const timed = () =>
      [...this.#sets.values()].flatMap(({ labels, count, sum, buckets }) => {
        let cumulative = 0;
        return [
          ...DURATION_BUCKETS.map((le, i) => {
            cumulative += buckets[i]!;
            return { labels: { le }, sharedLabels: labels, value: cumulative, metricName: bucketName };
          }),
          { labels: { le: "+Inf" }, sharedLabels: labels, value: count, metricName: bucketName },
          { labels: {}, sharedLabels: labels, value: sum, metricName: `${histogram.name}_sum` },
          { labels: {}, sharedLabels: labels, value: count, metricName: `${histogram.name}_count` },
        ];
      });
    registerExposed(registry, { ...counter, type: "counter", values: counted });
    registerExposed(registry, { ...histogram, type: "histogram", values: timed });
  }

  /** Counts one event under `labels` (given in the same key order each time) since `startedAt`. */
  record(labels: Record<Name, string>, startedAt: number): void {
    const key = Object.values(labels).join("\0");
    let set = this.#sets.get(key);
    if (!set) {
      set = { labels, count: 0, sum: 0, buckets: DURATION_BUCKETS.map(() => 0) };
      this.#sets.set(key, set);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    set.count += 1;
    set.sum += seconds;
    const bucket = DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (bucket >= 0) set.buckets[bucket]! += 1;
  }
}

type ExposedValue = { labels: object; sharedLabels?: object; value: number; metricName?: string };

/**
 * Adds a metric whose values are computed when /metrics is read, in the shapes the registry reads
 * from prom-client's own metrics: for the text, `sharedLabels` written after a value's own labels
 * (`getForPromString`); as JSON (`get`), the two merged.
 */
function registerExposed(
  registry: Registry,
  metric: { name: string; help: string; type: "counter" | "histogram"; values: () => ExposedValue[] },
): void {
  const { name, help, type, values } = metric;
  const exposed = {
    name,
    help,
    type,
    aggregator: "sum",
    getForPromString: async () => ({ name, help, type, aggregator: "sum", values: values() }),
    get: async () => ({
      name,
      help,
      type,
      aggregator: "sum",
      values: values().map(({ labels, sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    }),
    reset() {},
  };
  registry.registerMetric(exposed as unknown as Counter);
}

function isDocument(value: unknown): value is DocumentNode {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === Kind.DOCUMENT;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #http = new Timings<"method" | "route" | "status">(
    this.registry,
    { name: "tessera_http_requests_total", help: "HTTP requests by route template, method and status." },
    { name: "tessera_http_request_duration_seconds", help: "HTTP request duration." },
  );
  readonly #graphql = new Timings<"operation" | "type" | "outcome">(
    this.registry,
    { name: "tessera_graphql_operations_total", help: "GraphQL operations by operation name, type and outcome." },
    { name: "tessera_graphql_operation_duration_seconds", help: "GraphQL execution duration." },
  );
  readonly #jobs = this.#counter(
    "tessera_worker_jobs_total",
    "Worker jobs by task and outcome (success, error = will retry, failed = out of attempts).",
    ["task", "outcome"],
  );
  readonly #jobDuration = this.#histogram("tessera_worker_job_duration_seconds", "Worker job duration.", [
    "task",
    "outcome",
  ]);

  #counter<Label extends string>(name: string, help: string, labelNames: Label[]): Counter<Label> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  #histogram<Label extends string>(name: string, help: string, labelNames: Label[]): Histogram<Label> {
    return new Histogram({ name, help, labelNames, buckets: DURATION_BUCKETS, registers: [this.registry] });
  }

  constructor(pools: Record<string, pg.Pool>, queuePool?: pg.Pool) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "tessera_db_pool_connections",
      help: "Database pool connections by pool and state (total, idle, waiting clients).",
      labelNames: ["pool", "state"],
      registers: [this.registry],
      collect() {
        for (const [name, pool] of Object.entries(pools)) {
          this.set({ pool: name, state: "total" }, pool.totalCount);
          this.set({ pool: name, state: "idle" }, pool.idleCount);
          this.set({ pool: name, state: "waiting" }, pool.waitingCount);
        }
      },
    });
    if (queuePool) {
      new Gauge({
        name: "tessera_worker_queue_jobs",
        help:
          "Jobs in the queue by state: pending (waiting for their first run), " +
          "retrying (failed at least once, waiting for the next attempt), " +
          "locked (running, or held by a worker), failed (out of attempts).",
        labelNames: ["state"],
        registers: [this.registry],
        async collect() {
          // Disjoint states: a failing job counts as retrying from its first failure, not as pending
          // for the ~4 days its 25 attempts take.
          const { rows } = await queuePool.query<Record<(typeof QUEUE_STATES)[number], number>>(
            `select
               count(*) filter (where locked_at is null and attempts < max_attempts and last_error is null)::int
                 as pending,
               count(*) filter (where locked_at is null and attempts < max_attempts and last_error is not null)::int
                 as retrying,
               count(*) filter (where locked_at is not null)::int as locked,
               count(*) filter (where locked_at is null and attempts >= max_attempts)::int as failed
             from graphile_worker.jobs`,
          );
          for (const state of QUEUE_STATES) this.set({ state }, rows[0]?.[state] ?? 0);
        },
      });
    }
  }

  /**
   * Express middleware: counts every response under its route template (never the raw path);
   * `routeOfPath` names the route of a request refused before its handler ran.
   */
  http(routeOfPath: (path: string) => string | undefined) {
    const http = this.#http;
    return (req: Request, res: Response, next: NextFunction): void => {
      const started = performance.now();
      res.on("finish", () => {
        const labels = {
          method: METHODS.has(req.method) ? req.method : OTHER,
          route: routeTemplate(req, res) ?? routeOfPath(req.path) ?? "unmatched",
          status: res.statusCode >= 100 && res.statusCode <= 599 ? String(res.statusCode) : OTHER,
        };
        http.record(labels, started);
      });
      next();
    };
  }

  /** Grafast middleware recording each executed operation. */
  graphqlPlugin(): GraphileConfig.Plugin {
    const graphql = this.#graphql;
    return {
      name: "TesseraMetrics",
      version: "0.1.0",
      grafast: {
        middleware: {
          async execute(next, event) {
            const { name: given, type } = describe(event.args.document, event.args.operationName ?? undefined);
            // With the persisted-operations allow-list on, only allow-listed documents execute: their
            // names are as bounded as the list. Otherwise only our own documents keep their name.
            const grafserv = event.args.resolvedPreset?.grafserv as
              | { persistedOperationsGetter?: unknown; allowUnpersistedOperation?: unknown }
              | undefined;
            const allowListed =
              Boolean(grafserv?.persistedOperationsGetter) && grafserv?.allowUnpersistedOperation === false;
            const own = OWN_DOCUMENTS.has(event.args.document);
            const name = given === ANONYMOUS || allowListed || own ? given : OTHER;
            const started = performance.now();
            let outcome = "error";
            try {
              const result = await next();
              if (!(result && typeof result === "object" && "errors" in result && result.errors)) outcome = "success";
              return result;
            } finally {
              graphql.record({ operation: name, type, outcome }, started);
            }
          },
        },
      },
    };
  }

  /** Open GraphQL WebSockets, read when /metrics is scraped. */
  observeWebSockets(openCount: () => number): void {
    new Gauge({
      name: "tessera_websocket_connections",
      help: "GraphQL WebSocket connections open now.",
      registers: [this.registry],
      collect() {
        this.set(openCount());
      },
    });
  }

  /** The GraphQL operations in progress and waiting for a place (src/platform/http/graphqlAdmission.ts). */
  observeOperationSlots(slots: { inUse: number; waiting: number }, unsent: { bytes: number }): void {
    new Gauge({
      name: "tessera_graphql_concurrent_operations",
      help: "GraphQL operations (HTTP and WebSocket) in progress or waiting for a place now.",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        this.set({ state: "in_progress" }, slots.inUse);
        this.set({ state: "waiting" }, slots.waiting);
      },
    });
    new Gauge({
      name: "tessera_unsent_answer_bytes",
      help: "Bytes of answers (every HTTP route, GraphQL over WebSocket) written, not yet taken by their clients.",
      registers: [this.registry],
      collect() {
        this.set(unsent.bytes);
      },
    });
  }

  /** Subscribes to a worker's events. */
  observeWorker(runner: Runner): void {
    const started = new Map<string, number>();
    runner.events.on("job:start", ({ job }) => void started.set(job.id, performance.now()));
    const record =
      (outcome: string) =>
      ({ job }: { job: { id: string; task_identifier: string } }) => {
        const start = started.get(job.id);
        started.delete(job.id);
        this.#jobs.inc({ task: job.task_identifier, outcome });
        if (start !== undefined)
          this.#jobDuration.observe({ task: job.task_identifier, outcome }, (performance.now() - start) / 1000);
      };
    runner.events.on("job:success", record("success"));
    runner.events.on("job:error", record("error"));
    runner.events.on("job:failed", record("failed"));
  }
}

/**
 * The route template that served a finished request (`/api/users/:id`, `/graphql`), never the raw
 * path; undefined when no route matched. A route of the table notes its whole template as its
 * handler starts (res.locals.route: Express has reset req.baseUrl by the time the response
 * finishes); a route of several paths is named by its first.
 */
export function routeTemplate(req: Request, res: Response): string | undefined {
  if (typeof res.locals.route === "string") return res.locals.route;
  if (req.route) return String([req.route.path].flat()[0]);
  return req.path === "/graphql" || req.path === "/graphiql" ? req.path : undefined;
}

const ANONYMOUS = "anonymous";

function describe(document: DocumentNode, operationName: string | undefined): { name: string; type: string } {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  return { name: operation?.name?.value ?? ANONYMOUS, type: operation?.operation ?? "unknown" };
}
