/**
 * Outside development, a secret that anyone can read in this repository protects nothing. This
 * test reads every tracked file, collects each secret-looking value (token and key variables,
 * passwords in connection URLs, *SECRET* constants) and checks that stage and prod refuse it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/modules/index.ts";
import { PUBLISHED_SECRETS } from "../../src/platform/hardening.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import { problemsOf } from "../helpers/config.ts";

const SECRET_VARIABLES = ["JWT_SECRET", "TOTP_ENCODE_SECRET", "METRICS_TOKEN", "SERVICE_API_KEY"];

/**
 * A complete hardened configuration that loads: each test replaces one value with a published one.
 * Generated, so that this file publishes no secret of its own.
 */
const fresh = () => randomBytes(24).toString("base64url");
const GOOD: Record<string, string> = {
  DATABASE_URL: `postgres://tessera:${fresh()}@db.internal/tessera`,
  DATABASE_AUTHENTICATOR_URL: `postgres://tessera_authenticator:${fresh()}@db.internal/tessera`,
  JWT_SECRET: fresh(),
  TOTP_ENCODE_SECRET: fresh(),
};

/** Every literal value the repository assigns to a secret, with where it was found. */
function secretsInRepository(): Array<{ value: string; where: string; kind: "variable" | "password" }> {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: projectRoot, encoding: "utf8" })
    .split("\0")
    .filter((file) => file && !file.startsWith("src/generated/") && !file.endsWith("package-lock.json"));
  const found: Array<{ value: string; where: string; kind: "variable" | "password" }> = [];
  const assignment = new RegExp(`\\b(?:${SECRET_VARIABLES.join("|")})\\s*[:=]\\s*(["']?)([^\\s"'#,;{}()\`]+)`, "g");
  const constant = /\b[A-Z_]*SECRET[A-Z_]*\s*=\s*"([^"]+)"/g;
  const urlPassword = /\bpostgres(?:ql)?:\/\/[^:/@\s]+:([^@\s/"'`]+)@/g;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(join(projectRoot, file), "utf8");
    } catch {
      continue; // listed but absent (a deletion not yet committed)
    }
    const isCode = /\.(ts|js)$/.test(file);
    for (const [pattern, kind] of [
      [assignment, "variable"],
      [constant, "variable"],
      [urlPassword, "password"],
    ] as const) {
      for (const match of text.matchAll(pattern)) {
        const value = match[match.length - 1]!;
        // In code, an unquoted right-hand side is an expression (a call, a property), not a value.
        if (pattern === assignment && isCode && !match[1]) continue;
        // Code, not a value: identifiers, property accesses, interpolations, placeholders.
        if (
          /^(z\.|raw\.|env\.|config\.|process\.|TEST_|DEV_|\$|<)/.test(value) ||
          /^[A-Z_]+$/.test(value) ||
          /^(the|this|must|is)$/.test(value)
        )
          continue;
        if (!/[A-Za-z0-9]/.test(value)) continue; // operators such as `===`
        found.push({ value, where: file, kind });
      }
    }
  }
  return found;
}

describe("secrets published in the repository", () => {
  const secrets = secretsInRepository();

  test("the scan finds the known published values (it is not blind)", () => {
    const values = new Set(secrets.map((s) => s.value));
    expect(values).toContain("change-me-to-a-long-random-secret-of-32-chars-or-more");
    expect(values).toContain("compose-development-secret-change-me-0123456789");
    expect(values).toContain("tessera-owner-password");
  });

  test("every secret-looking value in the repository is in the refused list", () => {
    const unlisted = secrets.filter((s) => !PUBLISHED_SECRETS.has(s.value) && s.value.length >= 2);
    expect(unlisted).toEqual([]);
  });

  test.each(["stage", "prod"])("APP_ENV=%s refuses each published secret, wherever it is used", (env) => {
    expect(problemsOf({ APP_ENV: env, ...GOOD })).toEqual([]);
    for (const secret of PUBLISHED_SECRETS) {
      for (const variable of ["JWT_SECRET", "TOTP_ENCODE_SECRET"]) {
        expect(problemsOf({ APP_ENV: env, ...GOOD, [variable]: secret })).toEqual([
          expect.stringMatching(new RegExp(`^${variable}: `)),
        ]);
      }
      if (secret.length >= 16) {
        expect(problemsOf({ APP_ENV: env, ...GOOD, METRICS_TOKEN: secret })).toEqual([
          expect.stringMatching(/^METRICS_TOKEN: this value is published/),
        ]);
      }
      const url = `postgres://tessera:${encodeURIComponent(secret)}@db.internal/tessera`;
      for (const variable of ["DATABASE_URL", "DATABASE_LISTEN_URL"]) {
        expect(problemsOf({ APP_ENV: env, ...GOOD, [variable]: url })).toEqual([
          expect.stringMatching(new RegExp(`^${variable}: its password is published`)),
        ]);
      }
    }
  });

  test("dev and test accept them (the repository's own setups keep working)", () => {
    for (const env of ["dev", "test"]) {
      expect(problemsOf({ APP_ENV: env, JWT_SECRET: "change-me-to-a-long-random-secret-of-32-chars-or-more" })).toEqual(
        [],
      );
    }
  });
});

describe("stage is hardened like prod", () => {
  test("development defaults are refused and the database is required", () => {
    expect(problemsOf({ APP_ENV: "stage" })).toEqual([
      expect.stringMatching(/^JWT_SECRET: the development default is refused when APP_ENV=stage/),
      expect.stringMatching(/^DATABASE_URL: is required when APP_ENV=stage/),
      // The platform's problems first, then each module's (identity reads TOTP_ENCODE_SECRET).
      expect.stringMatching(/^TOTP_ENCODE_SECRET: the development default is refused when APP_ENV=stage/),
    ]);
  });

  test("introspection off, CORS closed, errors masked unless configured", () => {
    const config = loadConfig({ APP_ENV: "stage", ...GOOD });
    expect(config).toMatchObject({ isProduction: true, corsOrigins: [], graphql: { introspection: false } });
  });

  test("the same secret may not serve as both keys", () => {
    expect(problemsOf({ APP_ENV: "prod", ...GOOD, TOTP_ENCODE_SECRET: GOOD.JWT_SECRET! })).toEqual([
      expect.stringMatching(/^TOTP_ENCODE_SECRET: must differ from JWT_SECRET/),
    ]);
    // Spaces around it make no other secret (and are refused themselves).
    expect(problemsOf({ APP_ENV: "prod", ...GOOD, TOTP_ENCODE_SECRET: ` ${GOOD.JWT_SECRET!} ` })).toEqual([
      "TOTP_ENCODE_SECRET: must not start or end with white space",
      expect.stringMatching(/^TOTP_ENCODE_SECRET: must differ from JWT_SECRET/),
    ]);
  });

  test("forty spaces, or two characters twenty times, are 40 characters and no secret", () => {
    const [blank, repetitive] = [" ".repeat(40), "ab".repeat(20)];
    expect(problemsOf({ APP_ENV: "prod", ...GOOD, JWT_SECRET: blank, TOTP_ENCODE_SECRET: repetitive })).toEqual([
      "JWT_SECRET: must not start or end with white space",
      "TOTP_ENCODE_SECRET: must not be blank or repetitive (at least 8 distinct characters) when APP_ENV=prod",
    ]);
  });

  test("METRICS_TOKEN of one letter twenty times is refused in stage and prod, and serves in dev", () => {
    for (const env of ["stage", "prod"]) {
      expect(problemsOf({ APP_ENV: env, ...GOOD, METRICS_TOKEN: "a".repeat(20) })).toEqual([
        `METRICS_TOKEN: must not be blank or repetitive (at least 8 distinct characters) when APP_ENV=${env}`,
      ]);
      expect(problemsOf({ APP_ENV: env, ...GOOD, METRICS_TOKEN: GOOD.JWT_SECRET! })).toEqual([]);
    }
    expect(problemsOf({ METRICS_TOKEN: "a".repeat(20) })).toEqual([]);
  });
});

describe("TRUST_PROXY", () => {
  test.each([
    [undefined, "loopback"],
    ["false", false],
    ["true", true],
    ["2", 2],
    ["10.0.0.0/8, 192.168.1.7", ["10.0.0.0/8", "192.168.1.7"]],
    ["loopback,uniquelocal", ["loopback", "uniquelocal"]],
  ])("%s → %p", (value, expected) => {
    const config = loadConfig(value === undefined ? {} : { TRUST_PROXY: value });
    expect(config.trustProxy).toEqual(Array.isArray(expected) || typeof expected !== "string" ? expected : [expected]);
  });

  test("a malformed value is named", () => {
    expect(problemsOf({ TRUST_PROXY: "10.0.0.0/8; rm -rf" })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
  });
});
