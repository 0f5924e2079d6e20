// `npm run test:reliability`: the slow suite (test/reliability/) — the access matrix generated from
// the catalog, the fuzzers, and real processes under faults. Same setup as `npm test`.
import base from "./jest.config.js";

export default {
  ...base,
  testMatch: ["<rootDir>/test/reliability/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
};
