/**
 * The fields of the operations being planned and run at once, in the whole process. A plan holds
 * about 45 KiB of heap per field it selects (src/platform/graphql/planCache.ts), and the cache bounds
 * only the plans it keeps: the plan of each operation in progress is held until its result is out,
 * kept or not. One anonymous client posting distinct 240-alias queries (960 fields, within every
 * per-operation limit) 32 at a time filled the 256 MiB heap and the process died.
 *
 * An operation (HTTP or WebSocket, a query, a mutation or a subscription being set up) takes its
 * weight in fields (operationWeight: as validation counted them, plus two) from the budget before
 * Grafast plans it, and gives it back once its result is ready (a subscription: once its stream
 * has started; from then on LivePlans counts its plan). Operations that do not fit wait, served one
 * client address at a time in turn (FairSlots); one heavier than the whole budget runs alone.
 */
import { isPromiseLike } from "postgraphile/grafast";
import { type DocumentNode, getOperationAST } from "postgraphile/graphql";
import { FairSlots } from "../fairSlots.ts";
import type { Caller } from "./context.ts";
import { operationWeight } from "./planCache.ts";

/** The budget, in fields: about 45 MiB of plans in progress, as much as the plan cache keeps. */
export const EXECUTION_BUDGET = 1_000;

interface OperationArgs {
  document: DocumentNode;
  operationName?: string | null;
  contextValue?: unknown;
}

/** The operation's weight in fields; 1 when the document names no operation (Grafast refuses it). */
function weightOf(args: OperationArgs): number {
  const operation = getOperationAST(args.document, args.operationName);
  return operation ? operationWeight(args.document, operation) : 1;
}

function addressOf(args: OperationArgs): string {
  return (args.contextValue as { caller?: Caller } | undefined)?.caller?.ip ?? "";
}

export function makeExecutionBudgetPlugin(budget = EXECUTION_BUDGET): GraphileConfig.Plugin {
  const slots = new FairSlots(budget);
  const run = <T>(next: () => T | Promise<T>, weight: number): T | Promise<T> => {
    let result: T | PromiseLike<T>;
    try {
      result = next();
    } catch (error) {
      slots.release(weight);
      throw error;
    }
    if (!isPromiseLike(result)) {
      slots.release(weight);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        slots.release(weight);
        return value;
      },
      (error: unknown) => {
        slots.release(weight);
        throw error;
      },
    );
  };
  const withinBudget = <T>(next: () => T | Promise<T>, args: OperationArgs): T | Promise<T> => {
    const weight = weightOf(args);
    if (slots.tryAcquire(weight)) return run(next, weight);
    return slots.acquire(addressOf(args), weight).then(() => run(next, weight));
  };
  return {
    name: "TesseraExecutionBudget",
    version: "0.1.0",
    grafast: {
      middleware: {
        execute: (next, event) => withinBudget(next, event.args),
        subscribe: (next, event) => withinBudget(next, event.args),
      },
    },
  };
}
