/**
 * Messaging's REST routes (spec: api.ts). Each request runs its SQL in one transaction as the
 * visitor role with the caller's claims (as GraphQL requests do), so row-level security decides
 * what a user sees, and the writes go through the same SQL functions as the GraphQL mutations.
 */
import type pg from "pg";
import { inTransaction } from "../../platform/db/pools.ts";
import { AppError } from "../../platform/errors.ts";
import { pgSettingsFor } from "../../platform/graphql/context.ts";
import { requireUser } from "../../platform/http/authenticate.ts";
import { assertCursorOf } from "../../platform/http/listQuery.ts";
import { encodeCursor, implement, type Implementation } from "../../platform/http/routeTable.ts";
import { createChat, listChats, listMessages, markChatRead, type PageCursor, sendMessage } from "./api.ts";

type Request = Parameters<typeof requireUser>[0];
/** Runs `work` in a transaction as the request's user (their claims, the visitor role). */
export type UserRunner = <T>(req: Request, work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

export function userRunner(pool: pg.Pool, visitorRole: string, statementTimeoutMs: number): UserRunner {
  return async (req, work) => {
    const claims = requireUser(req);
    const settings = pgSettingsFor(claims, visitorRole, req.requestId, statementTimeoutMs);
    const client = await pool.connect();
    try {
      return await inTransaction(client, async () => {
        // set_config(…, true) is SET LOCAL, as PostGraphile does it; role last is not needed (one statement).
        await client.query("select set_config(key, value, true) from json_each_text($1::json)", [
          JSON.stringify(settings),
        ]);
        return work(client);
      });
    } finally {
      client.release();
    }
  };
}

/** Times are ISO 8601 (JSON's form of timestamptz), as in every REST answer. */
const CHAT_COLUMNS = `c.id, c.kind, c.title, to_json(c.created_at) #>> '{}' as "createdAt",
  to_json(c.last_message_at) #>> '{}' as "lastMessageAt",
  app_public.chats_unread_count(c) as "unreadCount",
  array(select m.user_id from app_public.chat_members m where m.chat_id = c.id order by m.joined_at, m.user_id)
    as "memberIds"`;
const MESSAGE_COLUMNS = `msg.id, msg.chat_id as "chatId", msg.sender_id as "senderId", msg.body,
  msg.image_sha256 as "imageSha256", msg.reply_to_id as "replyToId", to_json(msg.created_at) #>> '{}' as "createdAt",
  to_json(msg.edited_at) #>> '{}' as "editedAt", to_json(msg.deleted_at) #>> '{}' as "deletedAt"`;

interface ChatRow {
  id: string;
  kind: "direct" | "group";
  title: string | null;
  createdAt: string;
  lastMessageAt: string | null;
  unreadCount: number;
  memberIds: string[];
  sortValue?: string;
}
interface MessageRow {
  id: string;
  chatId: string;
  senderId: string | null;
  body: string | null;
  imageSha256: string | null;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

async function chatById(client: pg.PoolClient, id: string): Promise<ChatRow> {
  const { rows } = await client.query<ChatRow>(`select ${CHAT_COLUMNS} from app_public.chats c where c.id = $1`, [id]);
  if (!rows[0]) throw new AppError("NOT_FOUND", "No such chat");
  return rows[0];
}

/**
 * The order of a list page and the cursor it continues from, refused when the cursor was made for
 * another list (another chat's messages) or sort: its position means nothing there.
 */
function keyset(list: string, query: { sort: ReadonlyArray<{ direction: string }>; cursor: PageCursor | null }) {
  const descending = query.sort[0]?.direction !== "asc";
  const listName = `${list}:${descending ? "desc" : "asc"}`;
  assertCursorOf(query.cursor, listName);
  return { listName, cmp: descending ? "<" : ">", dir: descending ? "desc" : "asc", cursor: query.cursor };
}

/** `{ items, nextCursor }` of `limit + 1` rows read. */
function pageOf<R extends { id: string }>(rows: R[], limit: number, listName: string, sortValue: (row: R) => string) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ s: listName, v: sortValue(last), id: last.id }) : null;
  return { items, nextCursor };
}

export function messagingImplementations(asUser: UserRunner): Implementation[] {
  return [
    implement(listChats, async ({ query, req }) => {
      const { listName, cmp, dir, cursor } = keyset("chats:lastMessageAt", query);
      const rows = await asUser(req, async (client) => {
        const { rows } = await client.query<ChatRow & { sortValue: string }>(
          `select ${CHAT_COLUMNS}, coalesce(c.last_message_at, c.created_at)::text as "sortValue"
             from app_public.chats c
            where $1::timestamptz is null
               or (coalesce(c.last_message_at, c.created_at), c.id) ${cmp} ($1::timestamptz, $2::uuid)
            order by coalesce(c.last_message_at, c.created_at) ${dir}, c.id ${dir}
            limit $3`,
          [cursor?.v ?? null, cursor?.id ?? null, query.limit + 1],
        );
        return rows;
      });
      const page = pageOf(rows, query.limit, listName, (row) => row.sortValue);
      return { status: 200, body: { ...page, items: page.items.map(({ sortValue: _, ...chat }) => chat) } };
    }),

    implement(createChat, async ({ body, req }) => {
      return asUser(req, async (client) => {
        if (body.kind === "direct") {
          const { rows } = await client.query<{ id: string }>("select id from app_public.start_direct_chat($1)", [
            body.userId,
          ]);
          // Made by this transaction when its row carries our transaction id. (The statement's own
          // snapshot was the test before: it also missed a chat another request made meanwhile, and
          // each of those requests answered 201.)
          const { rows: made } = await client.query<{ created: boolean }>(
            `select c.xmin::text = (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)::text as created
               from app_public.chats c where c.id = $1`,
            [rows[0]!.id],
          );
          const chat = await chatById(client, rows[0]!.id);
          return { status: made[0]?.created ? 201 : 200, body: chat };
        }
        const { rows } = await client.query<{ id: string }>("select id from app_public.create_group_chat($1, $2)", [
          body.title,
          body.memberIds,
        ]);
        return { status: 201 as const, body: await chatById(client, rows[0]!.id) };
      });
    }),

    implement(listMessages, async ({ params, query, req }) => {
      const { listName, cmp, dir, cursor } = keyset(`messages:${params.id.toLowerCase()}:createdAt`, query);
      const rows = await asUser(req, async (client) => {
        await chatById(client, params.id);
        const { rows } = await client.query<MessageRow>(
          `select ${MESSAGE_COLUMNS} from app_public.messages msg
            where msg.chat_id = $1
              and ($2::timestamptz is null or (msg.created_at, msg.id) ${cmp} ($2::timestamptz, $3::uuid))
            order by msg.created_at ${dir}, msg.id ${dir}
            limit $4`,
          [params.id, cursor?.v ?? null, cursor?.id ?? null, query.limit + 1],
        );
        return rows;
      });
      return { status: 200, body: pageOf(rows, query.limit, listName, (row) => row.createdAt) };
    }),

    implement(sendMessage, async ({ params, body, req }) => {
      const message = await asUser(req, async (client) => {
        const { rows } = await client.query<MessageRow>(
          `select ${MESSAGE_COLUMNS} from app_public.send_message($1, $2, $3, $4) msg`,
          [params.id, body.body, body.imageSha256 ?? null, body.replyToId ?? null],
        );
        return rows[0]!;
      });
      return { status: 201, body: message };
    }),

    implement(markChatRead, async ({ params, req }) => {
      const read = await asUser(req, async (client) => {
        const { rows } = await client.query<{ chatId: string; lastReadAt: string }>(
          `select m.chat_id as "chatId", to_json(m.last_read_at) #>> '{}' as "lastReadAt"
           from app_public.mark_chat_read($1) m`,
          [params.id],
        );
        const { rows: counts } = await client.query<{ unreadCount: number }>(
          `select app_public.chats_unread_count(c) as "unreadCount" from app_public.chats c where c.id = $1`,
          [params.id],
        );
        return { ...rows[0]!, unreadCount: counts[0]?.unreadCount ?? 0 };
      });
      return { status: 200, body: read };
    }),
  ];
}
