/**
 * No Docker engine runs here, so the compose file is checked against the code instead: every
 * backend service runs a script that exists, and sets only variables the config module knows; the
 * `scale` profile is the topology test/reliability/scaling/ runs (PgBouncer's pools, which process
 * uses which).
 */
import { spawnSync } from "node:child_process";
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
  profiles?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(join(projectRoot, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};
const scripts = (
  JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const backend = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

const inProfile = (profile: string | undefined) =>
  Object.entries(compose.services).filter(([, service]) =>
    profile === undefined ? !service.profiles : service.profiles?.includes(profile),
  );

test("the stack has postgres, mailpit, a one-shot migrate, api and worker", () => {
  const stack = inProfile(undefined);
  expect(stack.map(([name]) => name).sort()).toEqual(["api", "mailpit", "migrate", "postgres", "worker"]);
  expect(stack.filter(([, service]) => service.build !== undefined).map(([name]) => name)).toEqual([
    "migrate",
    "api",
    "worker",
  ]);
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

describe("profile scale: PgBouncer, two APIs and two workers", () => {
  const scale = Object.fromEntries(inProfile("scale"));
  const pgbouncer = scale.pgbouncer!;
  // The configuration PgBouncer reads: the folder the service mounts on /etc/pgbouncer.
  const folder = pgbouncer.volumes?.find((volume) => volume.split(":")[1] === "/etc/pgbouncer")?.split(":")[0];
  const read = (file: string) => readFileSync(join(projectRoot, folder ?? "missing", file), "utf8");
  const ini = parseIni(read("pgbouncer.ini"));
  const passwords = new Map(
    [...read("userlist.txt").matchAll(/^"([^"]+)" "([^"]+)"$/gm)].map((match) => [match[1]!, match[2]!]),
  );
  /** A service's URL variable: the PgBouncer database it names, with that database's pool mode. */
  const through = (service: Service, variable: string) => {
    const url = new URL(service.environment?.[variable] ?? "postgres://unset/none");
    const database = url.pathname.slice(1);
    const entry = parseEntry(ini.databases?.[database] ?? "");
    // md5 authentication: the user must be in the userlist, with the URL's password.
    const known = passwords.get(decodeURIComponent(url.username)) === decodeURIComponent(url.password);
    return { host: url.host, database, mode: entry.pool_mode, target: entry.dbname, known };
  };
  const listen = `pgbouncer:${ini.pgbouncer?.listen_port}`;

  test("has pgbouncer, two APIs and two workers, each backend after migrate and pgbouncer", () => {
    expect(Object.keys(scale).sort()).toEqual([
      "pgbouncer",
      "scale-api-1",
      "scale-api-2",
      "scale-worker-1",
      "scale-worker-2",
    ]);
    expect(folder).toBeDefined();
    for (const name of ["scale-api-1", "scale-api-2"]) expect(scale[name]!.command).toEqual(["npm", "run", "server"]);
    for (const name of ["scale-worker-1", "scale-worker-2"])
      expect(scale[name]!.command).toEqual(["npm", "run", "worker"]);
    for (const [name, service] of Object.entries(scale)) {
      if (name === "pgbouncer") continue;
      expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(["migrate", "pgbouncer"]);
    }
  });

  test("the APIs query through the transaction pool (no prepared statements), LISTEN through the session one", () => {
    for (const name of ["scale-api-1", "scale-api-2"]) {
      const api = scale[name]!;
      const transaction = { host: listen, mode: "transaction", target: "tessera", known: true };
      expect(through(api, "DATABASE_URL")).toMatchObject(transaction);
      expect(through(api, "DATABASE_AUTHENTICATOR_URL")).toMatchObject(transaction);
      expect(through(api, "DATABASE_LISTEN_URL")).toMatchObject({ ...transaction, mode: "session" });
      expect(api.environment?.DATABASE_PREPARED_STATEMENTS).toBe("false");
    }
  });

  test("the workers use the session pool only", () => {
    for (const name of ["scale-worker-1", "scale-worker-2"]) {
      const worker = scale[name]!;
      const session = { host: listen, mode: "session", target: "tessera", known: true };
      expect(through(worker, "DATABASE_URL")).toMatchObject(session);
      expect(through(worker, "DATABASE_AUTHENTICATOR_URL")).toMatchObject(session);
    }
  });

  test("pgbouncer reaches the stack's postgres, and its two pools are the one database", () => {
    const entries = Object.values(ini.databases ?? {}).map(parseEntry);
    expect(entries.map((entry) => entry.pool_mode).sort()).toEqual(["session", "transaction"]);
    for (const entry of entries) expect(entry).toMatchObject({ host: "postgres", dbname: "tessera" });
    expect(ini.pgbouncer).toMatchObject({ auth_type: "md5", auth_file: "/etc/pgbouncer/userlist.txt" });
    expect(Object.keys(pgbouncer.depends_on ?? {})).toEqual(["postgres"]);
  });
});

/** An ini file: section → key → value (`;` and `#` start comments). */
function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[;#].*$/, "").trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) sections[section[1]!] = current = {};
    else if (line.includes("=")) {
      const at = line.indexOf("=");
      current[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  return sections;
}

/** A database entry of PgBouncer's [databases]: `host=… dbname=… pool_mode=…`. */
function parseEntry(entry: string): Record<string, string> {
  return Object.fromEntries(entry.split(/\s+/).flatMap((pair) => (pair.includes("=") ? [pair.split("=", 2)] : [])));
}

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

describe("memory caps (docs/operations.md, Memory)", () => {
  const flagsOf = (script: string) => scripts[script]!.split(/\s+/).filter((arg) => /^--max-\w+-space-size=/.test(arg));

  test("start, server and worker run node with the same young- and old-generation caps", () => {
    const caps = flagsOf("start");
    expect(caps.map((flag) => flag.split("=")[0]).sort()).toEqual(["--max-old-space-size", "--max-semi-space-size"]);
    expect(flagsOf("server")).toEqual(caps);
    expect(flagsOf("worker")).toEqual(caps);
  });

  test("node accepts the caps and its heap limit is theirs", () => {
    const caps = flagsOf("server");
    const mib = (name: string) =>
      Number(caps.find((flag) => flag.startsWith(`--max-${name}-space-size=`))!.split("=")[1]);
    const script = "process.stdout.write(String(require('node:v8').getHeapStatistics().heap_size_limit))";
    const child = spawnSync(process.execPath, [...caps, "-e", script], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    // The heap limit is the old generation plus the young one (two semi-spaces and V8's new large-object space).
    expect(Number(child.stdout) / 2 ** 20).toBe(mib("old") + 3 * mib("semi"));
  });

  test("the images and compose files start node through those scripts", () => {
    expect(readFileSync(join(projectRoot, "Dockerfile"), "utf8")).toMatch(/^CMD \["npm", "run", "server"\]$/m);
    for (const [, service] of backend) expect(service.command?.slice(0, 2)).toEqual(["npm", "run"]);
  });
});
