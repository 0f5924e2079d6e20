/**
 * The `notification` of a `notificationAdded` event, answered from the NOTIFY message: the trigger
 * sends the row as JSON in PostGraphile's text forms (app_hidden.instant_notification_json), so
 * 1,000 subscribers of one burst cost no query each. The rules of a read under RLS still hold:
 * the row must be the subscriber's (recipient and tenant of its verified session) and the session
 * must be live when the event arrives (one batched check for all subscribers, liveSessions.ts).
 * A message that carries only the id (the row did not fit the 8000-byte NOTIFY limit) is read
 * back under RLS as the subscriber, as before. Relations (`recipient`, `tenant`) are planned by
 * PostGraphile from the attributes (`.get("recipient_id")`) and read under their own RLS.
 */
import { assertPgClassSingleStep } from "postgraphile/@dataplan/pg";
import { access, context, type ExecutionDetails, Step } from "postgraphile/grafast";
import type { SessionIsLive } from "./liveSessions.ts";

declare global {
  namespace Grafast {
    interface Context {
      /** Batched session liveness for notificationAdded (the notifications module's graphqlContext). */
      notificationSessionIsLive: SessionIsLive;
    }
  }
}

/** A notification as instant_notification_json gives it: attribute name → PostGraphile's value. */
export type NotificationRow = Record<string, string | null> & { id: string; tenant_id: string; recipient_id: string };

/** The parsed NOTIFY payload: the id, and the row unless it was too big to send. */
export type NotificationEvent = { id: string; row?: NotificationRow };

type Subscriber = Pick<Grafast.Context, "userId" | "tenantId" | "caller" | "notificationSessionIsLive"> & {
  withPgClient: (
    settings: Record<string, string> | null,
    callback: (client: {
      query<R>(q: { text: string; values: unknown[] }): Promise<{ rows: R[] }>;
    }) => Promise<unknown>,
  ) => Promise<unknown>;
  pgSettings: Record<string, string> | null;
};

const READ_BACK = `select app_hidden.instant_notification_json(n) as row
  from app_public.instant_notifications n where n.id = $1`;

export class NotificationFromEventStep extends Step<NotificationRow | null> {
  static override $$export = { moduleName: "tessera", exportName: "NotificationFromEventStep" };
  override isSyncAndSafe = false;

  constructor($event: Step<NotificationEvent>) {
    super();
    this.addDependency($event);
    this.addDependency(context());
  }

  /** An attribute of the row, by its column name (what PostGraphile's field plans ask for). */
  get(attribute: string): Step<string | null> {
    return access(this, attribute) as Step<string | null>;
  }

  override execute({ indexMap, values }: ExecutionDetails<[NotificationEvent, Subscriber]>) {
    const [events, contexts] = values;
    return indexMap((i) => notificationFor(events.at(i), contexts.at(i)));
  }
}

async function notificationFor(event: NotificationEvent, subscriber: Subscriber): Promise<NotificationRow | null> {
  if (!event.row) return readBack(event.id, subscriber);
  const sessionId = subscriber.caller?.claims?.sid;
  const row = event.row;
  if (!sessionId || row.recipient_id !== subscriber.userId || row.tenant_id !== subscriber.tenantId) return null;
  return (await subscriber.notificationSessionIsLive(sessionId)) ? row : null;
}

async function readBack(id: string, subscriber: Subscriber): Promise<NotificationRow | null> {
  const result = (await subscriber.withPgClient(subscriber.pgSettings, (client) =>
    client.query<{ row: NotificationRow }>({ text: READ_BACK, values: [id] }),
  )) as { rows: Array<{ row: NotificationRow }> };
  return result.rows[0]?.row ?? null;
}

/**
 * InstantNotification's step assertion (checked in development and tests) also accepts the
 * notification answered from an event; every other field still gets a PostgreSQL row step.
 */
export const NotificationStepAssertionPlugin: GraphileConfig.Plugin = {
  name: "NotificationStepAssertionPlugin",
  version: "1.0.0",
  schema: {
    hooks: {
      GraphQLObjectType(spec, build, context) {
        const notifications = build.input.pgRegistry.pgResources.instant_notifications;
        if (!context.scope.isPgClassType || context.scope.pgCodec !== notifications?.codec) return spec;
        return {
          ...spec,
          assertStep($step: Step) {
            if (!($step instanceof NotificationFromEventStep)) assertPgClassSingleStep($step);
          },
        };
      },
    },
  },
};
