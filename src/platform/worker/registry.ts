/**
 * What the worker does, assembled from the modules: task identifiers (the platform's and each
 * module's), domain-event consumers and the crontab. Every module task's payload is validated by
 * its schema before it runs.
 */
import { parseCrontab, type ParsedCronItem, type Task } from "graphile-worker";
import type { z } from "zod";
import type { Config, MailConfig } from "../config.ts";
import { makeSendEmailTask, type MailTransport } from "../email/sendEmail.ts";
import type { EmailTemplate } from "../email/templates.ts";
import type { Logger } from "../logger.ts";
import { mergeRecords, type ModuleManifest, type TaskContext, type TaskDefinition } from "../modules.ts";
import type { Consumer } from "./consumers.ts";
import { makeDomainEventTask } from "./domainEvent.ts";
import { heartbeat } from "./heartbeat.ts";

/** The platform's own tasks: the outbox dispatcher, the liveness cron and e-mail sending. */
export const PLATFORM_TASK_NAMES = ["domain_event", "worker_heartbeat", "send_email"] as const;

/**
 * Tasks that wait on the SMTP server. They run in a runner of their own with its own small
 * concurrency (./runner.ts), so a slow or silent server never holds the slots of the other tasks:
 * module tasks, domain events and cron keep running.
 */
export const MAIL_TASK_NAMES: readonly string[] = ["send_email"];

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

/** A schema's issues with a payload, one line each. */
function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join(".") || "payload"}: ${issue.message}`);
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
 * What a module task's schema finds wrong with a payload (`npm run task -- enqueue` checks before it
 * adds the job, which would otherwise fail on every attempt); [] for a fitting payload or a platform task.
 */
export function enqueuedPayloadProblems(modules: readonly ModuleManifest[], task: string, payload: unknown): string[] {
  const definition = modules.find((module) => module.tasks?.[task])?.tasks?.[task];
  const parsed = (definition as TaskDefinition<unknown> | undefined)?.payload.safeParse(payload);
  return parsed && !parsed.success ? problemsOf(parsed.error) : [];
}

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
