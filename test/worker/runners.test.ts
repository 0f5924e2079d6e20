/**
 * The modules' own worker runners (`ModuleManifest.runners`): the real modules declare one, for
 * Contms; a declaration that would leave a task in two runners, or in none it belongs to, stops
 * the worker from starting.
 */
import { z } from "zod";
import { MODULES } from "../../src/modules/index.ts";
import type { ModuleManifest, TaskDefinition } from "../../src/platform/modules.ts";
import { moduleRunners } from "../../src/platform/worker/registry.ts";

const task: TaskDefinition<unknown> = { payload: z.unknown(), run: async () => {} };
const module = (name: string, tasks: string[], runners?: ModuleManifest["runners"]): ModuleManifest => ({
  name,
  tasks: Object.fromEntries(tasks.map((identifier) => [identifier, task])),
  runners,
});
const slots = { concurrency: () => 1 };

test("the subscriptions module runs its Contms tasks in a runner of its own", () => {
  const runners = moduleRunners(MODULES);
  expect([...runners.keys()]).toEqual(["contms"]);
  expect(runners.get("contms")!.tasks).toEqual(["issue_subscription", "sync_subscription_plans"]);
});

test("a runner's name taken twice or the platform's, another module's task, a task in two runners: refused", () => {
  const refusals = [
    [
      module("a", ["a1"], { slow: { tasks: ["a1"], ...slots } }),
      module("b", ["b1"], { slow: { tasks: ["b1"], ...slots } }),
    ],
    [module("a", ["a1"], { mail: { tasks: ["a1"], ...slots } })],
    [module("a", ["a1"], { slow: { tasks: ["b1"], ...slots } }), module("b", ["b1"])],
    [module("a", ["a1"], { one: { tasks: ["a1"], ...slots }, two: { tasks: ["a1"], ...slots } })],
  ].map((modules) => {
    try {
      moduleRunners(modules);
      return "accepted";
    } catch (error) {
      return (error as Error).message;
    }
  });
  expect(refusals).toEqual([
    'worker runner "slow" is declared twice (module b)',
    'worker runner "mail" is declared twice (module a)',
    'worker runner "slow" names "b1", no task of a',
    'task "a1" is in two worker runners',
  ]);
});
