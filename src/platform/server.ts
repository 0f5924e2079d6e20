/**
 * Composes the HTTP server: Express 5 with request ids, health, REST, and PostGraphile V5 (HTTP
 * and WebSocket) on one port.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import cors from "cors";
import express from "express";
import helmet from "helmet";
import { postgraphile, type PostGraphileInstance } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/express/v4";
import { makeLiveSessions, makeSessionCheck } from "./auth/sessionCheck.ts";
import { SessionWatch } from "./auth/sessionWatch.ts";
import type { Config, DatabaseUrls } from "./config.ts";
import { AppError } from "./errors.ts";
import { makeOperationRunner } from "./graphql/execute.ts";
import { makePreset } from "./graphql/preset.ts";
import { acceptHeaderGuard } from "./http/acceptHeader.ts";
import { graphqlBodyGuard } from "./http/requestBody.ts";
import { authenticate } from "./http/authenticate.ts";
import { newPool } from "./db/pools.ts";
import { applyRuntimeSettings } from "./db/runtimeSettings.ts";
import { errorHandler, notFound } from "./http/errorHandler.ts";
import { healthRoutes } from "./http/health.ts";
import { requestId } from "./http/requestId.ts";
import { requestLog } from "./http/requestLog.ts";
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
}

export async function createTesseraServer({
  config,
  database,
  logger,
  modules,
}: ServerOptions): Promise<TesseraServer> {
  registerModules(modules);
  // The owner pool serves the modules' app_private SQL functions, readiness and queue metrics.
  // Neither role is a superuser.
  // The authenticator pool is also PostGraphile's (passed in, so it can be measured); one client of
  // it holds the LISTEN connection for subscriptions.
  // Error listeners on each pool and every client it connects (the LISTEN client included): a
  // terminated connection is logged and replaced, never a crash.
  const requestPool = newPool({ connectionString: database.authenticatorUrl, max: 12 }, logger, "authenticator");
  const ownerPool = newPool({ connectionString: database.ownerUrl, max: 10 }, logger, "owner");
  await applyRuntimeSettings(ownerPool, config, modules);
  const checkSession = makeSessionCheck(requestPool);
  // Ends open subscriptions of revoked sessions and suspended tenants (LISTEN on its own connection).
  const sessionWatch = new SessionWatch({
    connectionString: database.ownerUrl,
    liveSessions: makeLiveSessions(requestPool),
    logger,
  });
  await sessionWatch.start();
  const metrics = new Metrics({ authenticator: requestPool, owner: ownerPool }, ownerPool);
  const parts: ModuleServer[] = [];
  for (const module of modules)
    if (module.server) parts.push(await module.server({ config, logger, ownerPool, requestPool }));
  const pgl = postgraphile(
    makePreset({
      database,
      jwtSecret: config.jwtSecret,
      isProduction: config.isProduction,
      graphql: config.graphql,
      logger,
      pool: requestPool,
      plugins: [...modules.flatMap((module) => module.graphqlPlugins ?? []), metrics.graphqlPlugin()],
      expensiveMutations: modules.flatMap((module) => module.expensiveMutations ?? []),
      services: { checkSession, values: Object.assign({}, ...parts.map((part) => part.graphqlContext ?? {})) },
    }),
  );

  const app = express();
  app.disable("x-powered-by");
  // Who may say who the client is (X-Forwarded-For): TRUST_PROXY. req.ip keys every per-IP limit.
  app.set("trust proxy", config.trustProxy);
  const httpServer = createServer(app);
  const drain = trackRequests(httpServer);

  app.use(requestId);
  app.use(requestLog(logger));
  app.use(metrics.http());
  app.get("/metrics", metricsAccess(config.metricsToken), async (_req, res) => {
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });
  // Security headers; Ruru (development) needs inline scripts, so no CSP here — the API serves JSON.
  app.use(helmet({ contentSecurityPolicy: false, crossOriginEmbedderPolicy: false }));
  app.use(
    cors({
      origin: config.corsOrigins === "*" ? true : config.corsOrigins,
      exposedHeaders: ["X-Request-Id", "Retry-After"],
      maxAge: 600,
    }),
  );
  app.use(healthRoutes({ requestPool, ownerPool, env: config.env, version, logger }));
  app.use(authenticate(config.jwtSecret, checkSession, "/graphql", logger));
  const runOperation = makeOperationRunner(pgl);
  app.use("/api", Metrics.mountedAt("/api"));
  // Streaming routes first: their bodies (multipart uploads) are never buffered by a body parser.
  app.use("/api", ...parts.flatMap((part) => part.streamingRoutes ?? []));
  app.use("/api", express.json({ limit: "100kb" }), express.urlencoded({ extended: false, limit: "100kb" }));
  app.use("/api", ...parts.flatMap((part) => part.routes?.(runOperation) ?? []));

  app.use(acceptHeaderGuard("/graphql"), graphqlBodyGuard("/graphql"));
  const serv = pgl.createServ(grafserv);
  // HTTP only: the WebSocket upgrade is ours (src/platform/websockets.ts), so that shutdown can close sockets properly.
  await serv.addTo(app, httpServer, false);
  const websockets = attachGraphqlWebSockets(serv, httpServer, logger, {
    clientAddress: expressClientAddress(app),
    sessionWatch,
  });
  metrics.observeWebSockets(() => websockets.openCount());

  app.use(notFound);
  app.use(errorHandler(logger));

  return {
    app,
    httpServer,
    pgl,
    metrics,
    async close() {
      // Stop accepting; idle keep-alive connections close now, busy ones after their response.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await Promise.all([websockets.closeAll(1001, "server shutting down", DRAIN_MS), drain(DRAIN_MS)]);
      // Whatever is still open after the drain (a request slower than DRAIN_MS) is cut.
      httpServer.closeAllConnections();
      await closed;
      await sessionWatch.close();
      for (const part of parts) await part.close?.();
      // pgl.release() leaves the pg services' pools and LISTEN client open; release them too.
      const services = pgl.getResolvedPreset().pgServices ?? [];
      await pgl.release();
      await Promise.all(services.map((service) => service.release?.()));
      await Promise.all([requestPool.end(), ownerPool.end()]);
    },
  };
}

/** With METRICS_TOKEN set, /metrics answers only `Authorization: Bearer <token>` (compared in constant time). */
function metricsAccess(token: string | undefined): express.RequestHandler {
  const expected = token ? createHash("sha256").update(token).digest() : undefined;
  return (req, _res, next) => {
    if (!expected) return next();
    const presented = /^Bearer (.+)$/i.exec(req.get("authorization") ?? "")?.[1] ?? "";
    if (timingSafeEqual(createHash("sha256").update(presented).digest(), expected)) return next();
    next(new AppError("UNAUTHENTICATED", "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'."));
  };
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
