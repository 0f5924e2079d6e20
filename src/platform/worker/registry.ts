/**
 * What the worker does, assembled from the modules: task identifiers (the platform's and each
 * module's), domain-event consumers and the crontab. Every module task's payload is validated by
 * its schema before it runs.
 */
import { parseCrontab, type ParsedCronItem, type Task } from "graphile-worker";
import type { Config, MailConfig } from "../config.ts";
import { badRecipients, makeSendEmailTask, readEmailJob, type MailTransport } from "../email/sendEmail.ts";
import type { EmailTemplate } from "../email/templates.ts";
import type { Logger } from "../logger.ts";
import {
  mergeRecords,
  type ModuleManifest,
  type ModuleRunner,
  type TaskContext,
  type TaskDefinition,
} from "../modules.ts";
import type { Consumer } from "./consumers.ts";
import { eventId, makeDomainEventTask } from "./domainEvent.ts";
import { problemsOf } from "./payloadProblems.ts";
import { heartbeat } from "./heartbeat.ts";

/** The platform's own tasks: the outbox dispatcher, the liveness cron and e-mail sending. */
export const PLATFORM_TASK_NAMES = ["domain_event", "worker_heartbeat", "send_email"] as const;

/**
 * Tasks that wait on the SMTP server. They run in a runner of their own with its own small
 * concurrency (./runner.ts), so a slow or silent server never holds the slots of the other tasks:
 * module tasks, domain events and cron keep running.
 */
export const MAIL_TASK_NAMES: readonly string[] = ["send_email"];

/** The platform's runners: "jobs" (every task no other runner claims, and the crontab) and "mail". */
export const PLATFORM_RUNNER_NAMES: readonly string[] = ["jobs", "mail"];

/**
 * The modules' own runners (`ModuleManifest.runners`), by name. Refused at start: a name taken twice
 * (or the platform's), a task that is not the module's own, or one claimed by two runners.
 */
export function moduleRunners(modules: readonly ModuleManifest[]): Map<string, ModuleRunner> {
  const runners = new Map<string, ModuleRunner>();
  const claimed = new Set<string>();
  for (const module of modules) {
    for (const [name, runner] of Object.entries(module.runners ?? {})) {
      if (runners.has(name) || PLATFORM_RUNNER_NAMES.includes(name))
        throw new Error(`worker runner ${JSON.stringify(name)} is declared twice (module ${module.name})`);
      for (const task of runner.tasks) {
        if (!module.tasks?.[task])
          throw new Error(
            `worker runner ${JSON.stringify(name)} names ${JSON.stringify(task)}, no task of ${module.name}`,
          );
        if (claimed.has(task)) throw new Error(`task ${JSON.stringify(task)} is in two worker runners`);
        claimed.add(task);
      }
      runners.set(name, runner);
    }
  }
  return runners;
}

/** The platform's crontab (UTC): `min hour dom month dow task ?opts {payload}`, each with an `id`. */
const PLATFORM_CRONTAB = ["* * * * * worker_heartbeat ?id=worker_heartbeat&max=1"];

export interface WorkerDependencies {
  modules: readonly ModuleManifest[];
  mail: MailConfig;
  logger: Logger;
  /** The worker's pooled SMTP transport; without it each send_email job opens its own. */
  transport?: MailTransport;
  /** The configuration module tasks read their settings from (`TaskContext`). */
  config?: Config;
}

/** Domain event type → the consumers that handle it, in module-list order. */
export function consumersByType(modules: readonly ModuleManifest[]): Record<string, readonly Consumer[]> {
  const byType: Record<string, Consumer[]> = {};
  for (const module of modules) {
    for (const [type, consumers] of Object.entries(module.consumers ?? {})) (byType[type] ??= []).push(...consumers);
  }
  return byType;
}

export function emailTemplates(modules: readonly ModuleManifest[]): Record<string, EmailTemplate> {
  return mergeRecords("e-mail template", modules, (module) => module.emailTemplates);
}

/** Wraps a module task: the payload is parsed by its schema; a payload that does not fit fails the job. */
function validated(name: string, definition: TaskDefinition<unknown>, context: TaskContext): Task {
  return async (payload, helpers) => {
    const parsed = definition.payload.safeParse(payload);
    if (!parsed.success) throw new Error(`${name}: invalid payload (${problemsOf(parsed.error).join("; ")})`);
    await definition.run(parsed.data, helpers, context);
  };
}

/**
 * What a task would find wrong with a payload (`npm run task -- enqueue` checks before it adds the
 * job, which would otherwise fail on every attempt, or be dropped): a module task's schema, or the
 * platform task's own rules; [] for a fitting payload.
 */
export function enqueuedPayloadProblems(modules: readonly ModuleManifest[], task: string, payload: unknown): string[] {
  if (Object.hasOwn(PLATFORM_PAYLOAD_PROBLEMS, task))
    return PLATFORM_PAYLOAD_PROBLEMS[task as keyof typeof PLATFORM_PAYLOAD_PROBLEMS](modules, payload);
  const definition = modules.find((module) => module.tasks?.[task])?.tasks?.[task];
  const parsed = (definition as TaskDefinition<unknown> | undefined)?.payload.safeParse(payload);
  return parsed && !parsed.success ? problemsOf(parsed.error) : [];
}

/**
 * The attempts the crontab gives a task's jobs (its line's `max=`): a job of it enqueued by hand
 * gets as many, not graphile-worker's 25. Undefined for a task the crontab does not run.
 */
export function taskMaxAttempts(modules: readonly ModuleManifest[], task: string): number | undefined {
  return makeCrontab(modules).find((item) => item.task === task)?.options.maxAttempts;
}

/** What send_email and domain_event would refuse (the heartbeat reads no payload). */
const PLATFORM_PAYLOAD_PROBLEMS = {
  // send_email drops a job it cannot read (an unknown template, data that do not fit it, no
  // recipient), and refuses each recipient that is no e-mail address.
  send_email: (modules: readonly ModuleManifest[], payload: unknown): string[] => {
    const read = readEmailJob(emailTemplates(modules), payload);
    return "problems" in read ? read.problems : badRecipients(read.job.to);
  },
  // domain_event fails every attempt on an item without an event id.
  domain_event: (_modules: readonly ModuleManifest[], payload: unknown): string[] => {
    const items = Array.isArray(payload) ? payload : [payload];
    return items.length > 0 && items.every((item) => eventId(item) !== undefined)
      ? []
      : ['payload: must be {"id": <event id>} or an array of them'];
  },
};

export function makeTaskList({ modules, mail, logger, transport, config }: WorkerDependencies): Record<string, Task> {
  const platform: Record<(typeof PLATFORM_TASK_NAMES)[number], Task> = {
    domain_event: makeDomainEventTask(consumersByType(modules)),
    worker_heartbeat: heartbeat,
    send_email: makeSendEmailTask(mail, logger, emailTemplates(modules), transport),
  };
  // A module task named like another task (the platform's or another module's) is refused.
  const validatedTasks = (module: ModuleManifest) =>
    module.tasks &&
    Object.fromEntries(Object.entries(module.tasks).map(([name, task]) => [name, validated(name, task, { config })]));
  return mergeRecords("task", modules, validatedTasks, platform);
}

/** Every task identifier: the platform's, then each module's. */
export function allTaskNames(modules: readonly ModuleManifest[]): string[] {
  return [...PLATFORM_TASK_NAMES, ...modules.flatMap((module) => Object.keys(module.tasks ?? {}))];
}

export function makeCrontab(modules: readonly ModuleManifest[]): ParsedCronItem[] {
  return parseCrontab([...PLATFORM_CRONTAB, ...modules.flatMap((module) => module.crontab ?? [])].join("\n"));
}
