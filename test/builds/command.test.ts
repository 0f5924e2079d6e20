/**
 * The command executor: BUILD_COMMAND run in a shell, its output stored as log lines, a non-zero
 * exit failing the build, a timeout killing its process group, and a cancel stopping it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lineSplitter } from "../../src/modules/builds/executor.ts";
import { gql } from "../commerce/store.ts";
import { SET_TENANT_MODULE } from "../helpers/fixtures.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";
import {
  type BuildTenant,
  buildRow,
  buildTasks,
  CANCEL_BUILD,
  createBuildTenant,
  logOf,
  requestBuild,
  runBuildJobs,
} from "./helpers.ts";

let app: TestApp;
let t: BuildTenant;
let dir: string;

beforeAll(async () => {
  app = await startTestApp();
  t = await createBuildTenant(app);
  dir = mkdtempSync(join(tmpdir(), "tessera-builds-"));
});
afterAll(async () => {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pidIn(file: string): Promise<number> {
  let pid = 0;
  await until(() => {
    try {
      pid = Number(readFileSync(file, "utf8").trim());
    } catch {
      return false;
    }
    return pid > 0;
  }, `the command's pid in ${file}`);
  return pid;
}

test("a failing command marks the build failed with its stdout and stderr in the log", async () => {
  const tasks = buildTasks(app, { command: "sh -c 'echo out; echo err >&2; exit 3'", timeoutSeconds: 60 });
  const id = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  expect((await buildRow(app.db.ownerPool, id))?.status).toBe("failed");
  const log = await logOf(app.db.ownerPool, id);
  expect(log).toContainEqual(["stdout", "out"]);
  expect(log).toContainEqual(["stderr", "err"]);
  expect(log.at(-1)).toEqual(["system", "build failed: exit code 3"]);
});

test("output holding NUL or bytes that are not UTF-8 is stored, each shown as U+FFFD", async () => {
  // Fails on the code before the fix: PostgreSQL refused the batch holding the NUL, its lines were
  // lost and the build ended failed as "interrupted".
  const tasks = buildTasks(app, {
    command: "printf 'before\\n'; printf 'a\\000b\\n'; printf 'c\\377d\\n'; echo after",
  });
  const id = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  expect(await logOf(app.db.ownerPool, id)).toEqual([
    ["stdout", "before"],
    ["stdout", "a\ufffdb"],
    ["stdout", "c\ufffdd"],
    ["stdout", "after"],
    ["system", "build succeeded"],
  ]);
});

test("a line over 4,000 characters keeps its beginning and says what it dropped; its rest makes no line", async () => {
  // Fails on the code before the fix: a long line's next piece was stored as a line of its own (an
  // empty one after 4,001 characters; 4,000 and 1,808 of 10,000), or dropped without a word.
  const ys = (count: number) => `yes y | head -c ${count * 2} | tr -d '\\n'; echo`;
  const tasks = buildTasks(app, {
    command: [ys(4000), ys(4001), "echo after", ys(100_000), "echo last"].join("; "),
  });
  const id = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  const cut = (length: number) => `${"y".repeat(3936)} … (${length - 3936} more bytes of this line not stored)`;
  expect(await logOf(app.db.ownerPool, id)).toEqual([
    ["stdout", "y".repeat(4000)],
    ["stdout", cut(4001)],
    ["stdout", "after"],
    ["stdout", cut(100_000)],
    ["stdout", "last"],
    ["system", "build succeeded"],
  ]);
});

test("lines come out whole and in order whatever the chunks, a character split across two included", () => {
  const text = `é${"x".repeat(3998)}é\nshort\n${"é".repeat(5000)}\r\nend`;
  const bytes = Buffer.from(text);
  for (const size of [1, 3, 7, 1000, 4001, bytes.length]) {
    const lines: string[] = [];
    const splitter = lineSplitter((line) => lines.push(line));
    for (let at = 0; at < bytes.length; at += size) splitter.write(bytes.subarray(at, at + size));
    splitter.end();
    expect([size, lines]).toEqual([
      size,
      [
        `é${"x".repeat(3998)}é`,
        "short",
        `${"é".repeat(3936)} … (${(5000 - 3936) * 2 + 1} more bytes of this line not stored)`,
        "end",
      ],
    ]);
  }
});

test("a succeeding command's output is stored in order and the build succeeds", async () => {
  const tasks = buildTasks(app, { command: 'for i in 1 2 3; do echo "line $i"; done; echo "$BUILD_ID"' });
  const id = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  expect(await logOf(app.db.ownerPool, id)).toEqual([
    ["stdout", "line 1"],
    ["stdout", "line 2"],
    ["stdout", "line 3"],
    ["stdout", id],
    ["system", "build succeeded"],
  ]);
});

test("a command that outlives its timeout is killed and the build fails", async () => {
  const pidFile = join(dir, "timeout.pid");
  const tasks = buildTasks(app, { command: `echo $$ > ${pidFile}; sleep 30`, timeoutSeconds: 1 });
  const id = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  const pid = await pidIn(pidFile);
  await until(() => !alive(pid), "the timed-out command to be gone");
  expect((await buildRow(app.db.ownerPool, id))?.status).toBe("failed");
  expect((await logOf(app.db.ownerPool, id)).at(-1)).toEqual([
    "system",
    "build failed: timed out after 1 s: the command was killed",
  ]);
});

test("cancelling a running build kills its command", async () => {
  const pidFile = join(dir, "cancel.pid");
  const tasks = buildTasks(app, { command: `echo started; echo $$ > ${pidFile}; sleep 30`, timeoutSeconds: 120 });
  const id = await requestBuild(app, t.admin.token);
  const running = runBuildJobs(app, tasks);
  const pid = await pidIn(pidFile);
  await until(async () => (await buildRow(app.db.ownerPool, id))?.status === "running", "the build to run");
  const data = await gql(app, t.admin.token, CANCEL_BUILD, { id });
  expect(data.cancelBuild.build.status).toBe("cancelled");
  await running;
  await until(() => !alive(pid), "the cancelled command to be gone");
  expect((await buildRow(app.db.ownerPool, id))?.status).toBe("cancelled");
  const log = await logOf(app.db.ownerPool, id);
  // The cancel is the log's last word: nothing the job or the command said after it is stored.
  expect(log.at(-1)).toEqual(["system", "build cancelled"]);
});

test("switching builds off cancels the tenant's running and queued builds, killing the command", async () => {
  // Fails on the code before the fix: both builds ran the operator's command to the end, the tenant
  // no longer able to see or cancel them.
  const shop = await createBuildTenant(app);
  const pidFile = join(dir, "module-off.pid");
  const tasks = buildTasks(app, { command: `echo $$ > ${pidFile}; sleep 30`, timeoutSeconds: 120 });
  const first = await requestBuild(app, shop.admin.token);
  const second = await requestBuild(app, shop.admin.token);
  const running = runBuildJobs(app, tasks);
  const pid = await pidIn(pidFile);
  await until(async () => (await buildRow(app.db.ownerPool, first))?.status === "running", "the first build to run");
  await gql(app, shop.admin.token, SET_TENANT_MODULE, { module: "builds", enabled: false });
  await running;
  await until(() => !alive(pid), "the command to be gone");
  for (const id of [first, second]) {
    expect((await buildRow(app.db.ownerPool, id))?.status).toBe("cancelled");
    expect((await logOf(app.db.ownerPool, id)).at(-1)).toEqual([
      "system",
      "build cancelled: the builds module was switched off",
    ]);
  }
  // Nothing resumes when the module comes back.
  await gql(app, shop.admin.token, SET_TENANT_MODULE, { module: "builds", enabled: true });
  await runBuildJobs(app, tasks);
  expect((await buildRow(app.db.ownerPool, second))?.status).toBe("cancelled");
});
