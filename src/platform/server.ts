/**
 * Composes the HTTP server: Express 5 with request ids, health, REST, and PostGraphile V5 (HTTP
 * and WebSocket) on one port.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import express from "express";
import helmet from "helmet";
import { postgraphile, type PostGraphileInstance } from "postgraphile";
import { PgSubscriber } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/express/v4";
import { makeLiveSessions, makeSessionCheck } from "./auth/sessionCheck.ts";
import { SessionWatch } from "./auth/sessionWatch.ts";
import type { Config, DatabaseUrls } from "./config.ts";
import { AppError } from "./errors.ts";
import { shareDefaultAbortReason } from "./graphql/abortReason.ts";
import { makeOperationRunner } from "./graphql/execute.ts";
import { RequestTransactions } from "./graphql/requestTransactions.ts";
import { GRAPHQL_MAX_BODY_BYTES, makePreset } from "./graphql/preset.ts";
import { acceptHeaderGuard } from "./http/acceptHeader.ts";
import { declaredLengthLimit, graphqlBodyGuard } from "./http/requestBody.ts";
import { verifyFormBody, verifyJsonBody, wellFormedQueryString } from "./http/unicode.ts";
import { authenticate } from "./http/authenticate.ts";
import { newPool } from "./db/pools.ts";
import { applyRuntimeSettings } from "./db/runtimeSettings.ts";
import { errorHandler, notFound } from "./http/errorHandler.ts";
import { healthImplementations } from "./http/health.ts";
import { openApiImplementation, swaggerUiRouter } from "./http/apiDocs.ts";
import { buildOpenApiDocument, type OpenApiDocument } from "./http/openapi.ts";
import { apiSpecs, getMetrics } from "./http/platformApi.ts";
import {
  apiRouter,
  checkImplementations,
  implementationsOf,
  methodNotAllowed,
  routeOfPath,
} from "./http/routeTable.ts";
import { type Implementation, implement, isStreaming } from "./http/routeSpec.ts";
import { requestId } from "./http/requestId.ts";
import { requestLog } from "./http/requestLog.ts";
import { corsHeaders } from "./http/cors.ts";
import { answerBudget, MAX_UNSENT_BYTES, UnsentAnswers } from "./http/answerBudget.ts";
import { graphqlAdmission, operationSlots } from "./http/graphqlAdmission.ts";
import { fixedHeaders, middlewareLane } from "./http/lane.ts";
import { installClientAddress, rememberedTrust } from "./http/trustProxy.ts";
import { answerClientErrors, continueWhenRead, malformation } from "./http/clientErrors.ts";
import type { Logger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { registerModules, type ModuleManifest, type ModuleServer } from "./modules.ts";
import { version } from "./version.ts";
import { attachGraphqlWebSockets, expressClientAddress } from "./websockets.ts";

export interface TesseraServer {
  app: express.Express;
  httpServer: Server;
  pgl: PostGraphileInstance;
  metrics: Metrics;
  /** The OpenAPI document of the REST surface this server carries (GET /openapi.json). */
  openApiDocument: OpenApiDocument;
  /**
   * Graceful: stops accepting, sends WebSocket clients 1001 (going away), lets in-flight requests
   * finish (at most DRAIN_MS), then releases PostGraphile and ends every pool — in that order, so
   * that no request ever meets an ended pool.
   */
  close(): Promise<void>;
}

export interface ServerOptions {
  config: Config;
  database: DatabaseUrls;
  logger: Logger;
  /** The modules whose routes, GraphQL plugins and request-time services the server carries. */
  modules: readonly ModuleManifest[];
  /** Bytes of GraphQL answers that may wait for their clients in the process (default MAX_UNSENT_BYTES). */
  maxUnsentBytes?: number;
}

export async function createTesseraServer({
  config,
  database,
  logger,
  modules,
  maxUnsentBytes = MAX_UNSENT_BYTES,
}: ServerOptions): Promise<TesseraServer> {
  shareDefaultAbortReason();
  registerModules(modules);
  // The REST route table: the platform's routes and every module's. Its document is built before
  // anything connects, so that a spec it cannot describe stops the start at once.
  const specs = apiSpecs(modules);
  const openApiDocument = buildOpenApiDocument(specs, version);
  // The owner pool serves the modules' app_private SQL functions, readiness and queue metrics.
  // Neither role is a superuser.
  // The authenticator pool is also PostGraphile's (passed in, so it can be measured). The LISTEN
  // connection of subscriptions is one client of it, or of a pool of its own on DATABASE_LISTEN_URL
  // (a session connection, when the others go through a transaction pooler: docs/scaling.md).
  // Error listeners on each pool and every client it connects (the LISTEN client included): a
  // terminated connection is logged and replaced, never a crash.
  const prepared = { preparedStatements: database.preparedStatements };
  const requestPool = newPool(
    { connectionString: database.authenticatorUrl, max: 12 },
    logger,
    "authenticator",
    prepared,
  );
  const ownerPool = newPool({ connectionString: database.ownerUrl, max: 10 }, logger, "owner", prepared);
  const listenPool = database.listenUrl
    ? newPool({ connectionString: database.listenUrl, max: 1 }, logger, "listen", prepared)
    : undefined;
  const pgSubscriber = new PgSubscriber(listenPool ?? requestPool);
  await applyRuntimeSettings(ownerPool, config, modules);
  // The owner's URL has just answered; the request role's (and the LISTEN URL) must too, or the server
  // would listen and fail every request: a refused role stops the start (DATABASE_UNREACHABLE).
  await Promise.all([requestPool.query("select 1"), listenPool?.query("select 1")]);
  const checkSession = makeSessionCheck(requestPool);
  const transactions = new RequestTransactions(requestPool);
  // Ends open subscriptions of revoked sessions and suspended tenants (LISTEN on its own connection).
  const sessionWatch = new SessionWatch({
    connectionString: database.listenUrl ?? database.ownerUrl,
    liveSessions: makeLiveSessions(requestPool),
    logger,
  });
  await sessionWatch.start();
  const metrics = new Metrics({ authenticator: requestPool, owner: ownerPool }, ownerPool);
  const parts: ModuleServer[] = [];
  for (const module of modules)
    if (module.server)
      parts.push(await module.server({ config, logger, ownerPool, requestPool, database, checkSession }));
  const pgl = postgraphile(
    makePreset({
      database,
      jwtSecret: config.jwtSecret,
      isProduction: config.isProduction,
      graphql: config.graphql,
      logger,
      pool: requestPool,
      pgSubscriber,
      plugins: [...modules.flatMap((module) => module.graphqlPlugins ?? []), metrics.graphqlPlugin()],
      expensiveMutations: modules.flatMap((module) => module.expensiveMutations ?? []),
      transactions,
      services: { checkSession, values: Object.assign({}, ...parts.map((part) => part.graphqlContext ?? {})) },
    }),
  );
  // What the start opened, released in order: at shutdown, or when the start is refused.
  const release = async () => {
    await sessionWatch.close();
    for (const part of parts) await part.close?.();
    // pgl.release() leaves the pg services' pools and LISTEN client open; release them too.
    const services = pgl.getResolvedPreset().pgServices ?? [];
    await pgl.release();
    await Promise.all(services.map((service) => service.release?.()));
    // Ours, so released here: it gives its LISTEN client back, which the pool's end waits for.
    pgSubscriber.release();
    await Promise.all([requestPool.end(), ownerPool.end(), listenPool?.end()]);
  };

  const app = express();
  app.disable("x-powered-by");
  // Paths are matched as written: `/METRICS` is not `/metrics` (every router is made so too).
  app.set("case sensitive routing", true);
  // No automatic ETags: a JSON answer (a balance, an order) is never answered 304 from a stale
  // copy; routes that can be cached (images) set their own.
  app.set("etag", false);
  // Who may say who the client is (X-Forwarded-For): TRUST_PROXY. req.ip keys every per-IP limit.
  app.set("trust proxy", config.trustProxy);
  app.set("trust proxy fn", rememberedTrust(app.get("trust proxy fn")));
  installClientAddress(app);
  // Requests are dispatched at the end, once the /graphql lane is built (see below).
  // A missing Host is refused by answerClientErrors, in the error envelope.
  // Only a WebSocket upgrade of /graphql is one: any other request with an Upgrade header (curl's
  // `--http2` asks for h2c) is an ordinary HTTP/1.1 request, answered in its turn, as HTTP allows.
  // Handed to the upgrade listener, it was dropped with the answers still owed before it.
  const httpServer = createServer({
    requireHostHeader: false,
    // A WebSocket handshake is HTTP/1.1 (RFC 6455); a malformed one (two Host headers) is refused
    // as an ordinary request is.
    shouldUpgradeCallback: (req: IncomingMessage) =>
      req.headers.upgrade?.toLowerCase() === "websocket" &&
      pathOf(req.url) === GRAPHQL_PATH &&
      req.httpVersion === "1.1" &&
      malformation(req) === undefined,
  });
  const refusedBeforeRoutes = answerClientErrors(httpServer);
  continueWhenRead(httpServer);
  const drain = trackRequests(httpServer);

  // The middlewares every request goes through, /graphql's lane included (below).
  const routeOf = routeOfPath(specs);
  // Answers waiting for their clients, HTTP and WebSocket alike (src/platform/http/answerBudget.ts).
  const unsentAnswers = new UnsentAnswers(maxUnsentBytes, logger);
  const everyRequest = [requestId, requestLog(logger, routeOf), metrics.http(routeOf), answerBudget(unsentAnswers)];
  app.use(...everyRequest);
  const metricsAllowed = metricsAccess(config.metricsToken);
  const metricsRoute = implement(getMetrics, async ({ req, res }) => {
    metricsAllowed(req);
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });
  app.use(apiRouter([metricsRoute], ""));
  // Security headers; Ruru (development) needs inline scripts, so no CSP here — the API serves JSON.
  const responseHeaders = [
    fixedHeaders(helmet({ contentSecurityPolicy: false, crossOriginEmbedderPolicy: false })),
    corsHeaders({ origins: config.corsOrigins, exposedHeaders: ["X-Request-Id", "Retry-After"], maxAge: 600 }),
  ];
  app.use(...responseHeaders);
  const rootRoutes = [
    ...healthImplementations({ requestPool, ownerPool, env: config.env, version, logger }),
    openApiImplementation(openApiDocument),
  ];
  // Routes under /api (its liveness alias) meet what every /api request meets first, below.
  const underApi = (implementation: Implementation) => implementation.spec.path.startsWith("/api/");
  app.use(
    apiRouter(
      rootRoutes.filter((implementation) => !underApi(implementation)),
      "",
    ),
  );
  app.use(swaggerUiRouter());
  const authenticated = authenticate(config.jwtSecret, checkSession, GRAPHQL_PATH, logger);
  app.use(authenticated);
  const runOperation = makeOperationRunner(pgl);
  // The modules' routes: their route-table handlers (streaming ones before the body parsers) and
  // their routers. Every spec of the table must have exactly one handler, or the server does not start.
  const implementations = parts.flatMap((part) => part.implementations?.(runOperation) ?? []);
  const streamingRoutes = [
    apiRouter(implementations.filter((implementation) => isStreaming(implementation.spec))),
    ...parts.flatMap((part) => part.streamingRoutes ?? []),
  ];
  const routes = [
    apiRouter(implementations.filter((implementation) => !isStreaming(implementation.spec))),
    ...parts.flatMap((part) => part.routes?.(runOperation) ?? []),
  ];
  try {
    checkImplementations(specs, [
      metricsRoute,
      ...rootRoutes,
      ...[...streamingRoutes, ...routes].flatMap((router) => implementationsOf(router)),
    ]);
  } catch (error) {
    await release();
    throw error;
  }
  // Streaming routes first: their bodies (multipart uploads) are never buffered by a body parser.
  app.use("/api", ...streamingRoutes);
  app.use(
    "/api",
    declaredLengthLimit(REST_BODY_LIMIT),
    express.json({ limit: REST_BODY_LIMIT, verify: verifyJsonBody }),
    express.urlencoded({ extended: false, limit: REST_BODY_LIMIT, parameterLimit: 1000, verify: verifyFormBody }),
    wellFormedQueryString,
  );
  app.use("/api", ...routes);
  app.use(apiRouter(rootRoutes.filter(underApi), ""));

  const graphqlGuards = [acceptHeaderGuard(GRAPHQL_PATH), graphqlBodyGuard(GRAPHQL_PATH, GRAPHQL_MAX_BODY_BYTES)];
  app.use(...graphqlGuards);
  const serv = pgl.createServ(grafserv);
  // HTTP only: the WebSocket upgrade is ours (src/platform/websockets.ts), so that shutdown can close sockets properly.
  await serv.addTo(app, httpServer, false);
  // GraphQL operations in progress at once, over HTTP and WebSocket (src/platform/http/graphqlAdmission.ts).
  const slots = operationSlots();
  const websockets = attachGraphqlWebSockets(serv, httpServer, logger, {
    clientAddress: expressClientAddress(app),
    sessionWatch,
    operationSlots: slots,
    unsentAnswers,
  });
  metrics.observeWebSockets(() => websockets.openCount());
  metrics.observeOperationSlots(slots, unsentAnswers);

  const onError = errorHandler(logger);
  app.use(methodNotAllowed(specs), notFound);
  app.use(onError);
  // /graphql, the hot path, skips the router: the middlewares above that apply to it, in the same
  // order (src/platform/http/lane.ts). Every other path (Ruru, REST, health) goes through Express.
  const graphqlLane = middlewareLane(
    app,
    [
      ...everyRequest,
      ...responseHeaders,
      graphqlAdmission(slots),
      authenticated,
      ...graphqlGuards,
      serv.createHandler() as express.RequestHandler,
      notFound,
    ],
    onError,
  );
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (refusedBeforeRoutes(req, res)) return;
    if (isGraphqlPath(req.url)) graphqlLane(req, res);
    else app(req, res);
  });

  return {
    app,
    httpServer,
    pgl,
    metrics,
    openApiDocument,
    async close() {
      // Stop accepting; idle keep-alive connections close now, busy ones after their response.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await Promise.all([websockets.closeAll(1001, "server shutting down", DRAIN_MS), drain(DRAIN_MS)]);
      // Whatever is still open after the drain (a request slower than DRAIN_MS) is cut.
      httpServer.closeAllConnections();
      await closed;
      await release();
    },
  };
}

/** With METRICS_TOKEN set, /metrics answers only `Authorization: Bearer <token>` (compared in constant time). */
function metricsAccess(token: string | undefined): (req: express.Request) => void {
  const expected = token ? createHash("sha256").update(token).digest() : undefined;
  return (req) => {
    if (!expected) return;
    const presented = /^Bearer (.+)$/i.exec(req.get("authorization") ?? "")?.[1] ?? "";
    if (timingSafeEqual(createHash("sha256").update(presented).digest(), expected)) return;
    throw new AppError("UNAUTHENTICATED", "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.");
  };
}

const GRAPHQL_PATH = "/graphql";
/** The largest JSON or form body a REST route takes: 100 kB, as `/graphql` and a WebSocket message. */
const REST_BODY_LIMIT = 100_000;

/** The path of a request target, without its query. */
function pathOf(url: string | undefined): string {
  const end = url?.indexOf("?") ?? -1;
  return end === -1 ? (url ?? "") : url!.slice(0, end);
}

/** True for the GraphQL endpoint's path, with or without a query string (GET). */
function isGraphqlPath(url: string | undefined): boolean {
  return url === GRAPHQL_PATH || (url?.startsWith(`${GRAPHQL_PATH}?`) ?? false);
}

/** How long in-flight requests and WebSocket closing handshakes get at shutdown. */
const DRAIN_MS = 5_000;

/**
 * Counts requests in flight. The returned drain() marks every response from then on (and those in
 * flight whose headers are not sent yet) `Connection: close`, closes each keep-alive connection
 * as soon as it falls idle, and resolves when no request is left or after `timeoutMs`.
 */
function trackRequests(httpServer: Server): (timeoutMs: number) => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let settle: (() => void) | undefined;
  // Before Express's own listener, so that every request is counted before anything answers it.
  httpServer.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) res.shouldKeepAlive = false;
    res.once("close", () => {
      inFlight.delete(res);
      if (!draining) return;
      // The connection is idle once the response is done; close it rather than wait for another request.
      setImmediate(() => httpServer.closeIdleConnections());
      if (inFlight.size === 0) settle?.();
    });
  });
  return async (timeoutMs) => {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    httpServer.closeIdleConnections();
    if (inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      settle = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  };
}
