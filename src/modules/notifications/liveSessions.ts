/**
 * Whether a subscriber's session is still live when one of its notifications arrives, asked for
 * many subscribers in one statement: every question asked in the same turn of the event loop (a
 * NOTIFY burst reaches all its subscribers at once) shares one app_hidden.session_claims call.
 * This is the check a read of the row under RLS made (current_user_id() is null for a session
 * revoked, expired, of a deleted user or a suspended tenant), without a query per subscriber.
 */
import type { LiveSessions } from "../../platform/auth/sessionCheck.ts";

/** Answers whether the session is live now; concurrent questions are batched. */
export type SessionIsLive = (sessionId: string) => Promise<boolean>;

interface Pending {
  sessionIds: Set<string>;
  answer: Promise<Set<string>>;
}

export function batchedSessionCheck(liveSessions: LiveSessions): SessionIsLive {
  let pending: Pending | undefined;
  function nextBatch(): Pending {
    const sessionIds = new Set<string>();
    const answer = new Promise<Set<string>>((resolve, reject) => {
      setImmediate(() => {
        pending = undefined;
        liveSessions([...sessionIds]).then(resolve, reject);
      });
    });
    return { sessionIds, answer };
  }
  return async (sessionId) => {
    pending ??= nextBatch();
    const batch = pending;
    batch.sessionIds.add(sessionId);
    return (await batch.answer).has(sessionId);
  };
}
