// Tests run as native ES modules (grafserv loads ws, graphql-ws and Ruru through dynamic import()),
// hence `--experimental-vm-modules` in `npm test`. @swc/jest strips types; `npm run typecheck` checks them.
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2023" }, module: { type: "es6" } }],
  },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // Real processes under faults, the access matrix and the fuzzers: `npm run test:reliability`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/reliability/"],
  globalSetup: "<rootDir>/test/setup/globalSetup.ts",
  globalTeardown: "<rootDir>/test/setup/globalTeardown.ts",
  setupFilesAfterEnv: ["<rootDir>/test/setup/perFile.ts"],
  // A failure bound, not a wait: generous, because CI and developers run two suites on two cores.
  testTimeout: 60_000,
  // Each file gets its own database cloned from a migrated template, so files run in parallel.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? "100%",
};
