/**
 * Operations owns no table of app_public: its data is graphile-worker's queue, reached only through
 * functions (failedJobs, retryJob…) that the GraphQL matrix checks with the other tenant's jobs.
 */
import { defineExpectations } from "../expectations.ts";

export default defineExpectations("operations", {});
