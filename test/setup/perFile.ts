/**
 * Runs before each test file. A new database connection may take 30 s to be ready here, not the
 * 10 s a server waits by default (DATABASE_CONNECT_TIMEOUT_SECONDS). Two suites on two cores, each
 * with its PostgreSQL cluster, a TypeScript compiler and image encoders at work, once kept a
 * connection from being ready for more than 10 s, and the request it was for answered
 * SERVICE_UNAVAILABLE. The bound still fails a test whose database never answers.
 */
import { setConnectTimeout } from "../../src/platform/db/pools.ts";

setConnectTimeout(30_000);
