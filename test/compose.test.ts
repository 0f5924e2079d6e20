/**
 * No Docker engine runs here, so the compose file is checked against the code instead: every
 * backend service runs a script that exists, and sets only variables the config module knows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { KNOWN_VARIABLES, loadConfig } from "../src/modules/index.ts";
import { projectRoot } from "../src/platform/paths.ts";

interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(projectRoot, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};
const scripts = (
  JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const backend = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

test("the stack has postgres, mailpit, a one-shot migrate, api and worker", () => {
  expect(Object.keys(compose.services).sort()).toEqual(["api", "mailpit", "migrate", "postgres", "worker"]);
  expect(backend.map(([name]) => name).sort()).toEqual(["api", "migrate", "worker"]);
});

test.each(backend)("%s runs an npm script that exists", (_name, service) => {
  expect(service.command?.slice(0, 2)).toEqual(["npm", "run"]);
  expect(Object.keys(scripts)).toContain(service.command?.[2]);
});

test.each(backend)("%s sets only variables the config module knows, and they validate", (_name, service) => {
  const environment = service.environment ?? {};
  expect(Object.keys(environment).filter((key) => !KNOWN_VARIABLES.includes(key))).toEqual([]);
  expect(() => loadConfig(environment)).not.toThrow();
});

test("every dependency names a service of the file", () => {
  for (const [, service] of Object.entries(compose.services)) {
    for (const dependency of Object.keys(service.depends_on ?? {}))
      expect(Object.keys(compose.services)).toContain(dependency);
  }
});

describe("docker-compose.stage.yml", () => {
  const stage = parse(readFileSync(join(projectRoot, "docker-compose.stage.yml"), "utf8"), { merge: true }) as {
    services: Record<string, Service & { env_file?: string }>;
  };
  const backendServices = Object.entries(stage.services).filter(([, service]) =>
    service.image?.includes("BACKEND_IMAGE"),
  );

  test("runs the image named by BACKEND_IMAGE for migrate, api and worker, configured by an env file", () => {
    expect(backendServices.map(([name]) => name).sort()).toEqual(["api", "migrate", "worker"]);
    for (const [, service] of backendServices) {
      expect(Object.keys(scripts)).toContain(service.command?.[2]);
      expect(service.env_file).toMatch(/TESSERA_ENV_FILE/);
    }
  });

  test("every dependency names a service of the file", () => {
    for (const [, service] of Object.entries(stage.services)) {
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(Object.keys(stage.services)).toContain(dependency);
    }
  });
});

test("the Dockerfile runs as a non-root user with a healthcheck on /ready", () => {
  const dockerfile = readFileSync(join(projectRoot, "Dockerfile"), "utf8");
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/ready/m);
  expect(dockerfile).toMatch(/^FROM node:24-slim AS runtime$/m);
});
