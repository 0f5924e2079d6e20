/**
 * Every authenticated request proves its session is still live in the database, and the database
 * — not the token — says who the caller is. A signed token only names a session: the user, tenant
 * and role of the request are the session's (the role is the highest the user holds now, so a role
 * change applies on the next request). A token whose sub or tid disagree with its session is
 * refused, so a token minted with a leaked secret cannot borrow someone else's live session.
 */
import type pg from "pg";
import { AppError } from "../errors.ts";
import type { AccessClaims } from "./tokens.ts";

/** Checks the session of verified token claims; answers the claims to use (the database's). */
export type SessionCheck = (claims: AccessClaims) => Promise<AccessClaims>;

/** Which of the given sessions are live (for re-checking open WebSockets in one statement). */
export type LiveSessions = (sessionIds: readonly string[]) => Promise<Set<string>>;

interface SessionClaimsRow {
  session_id: string;
  user_id: string;
  tenant_id: string;
  role: string;
}

/** What a client is told when its session is no longer live (revoked, expired, user deleted, tenant suspended). */
export const SESSION_ENDED = "The session has ended; sign in again.";

/**
 * `pool` connects as the authenticator, which may execute app_hidden.session_claims only. The check
 * is a statement of its own, prepared once per connection (a named statement), on whichever
 * connection is free: the request's own statements then take a connection only for their round trips.
 */
export function makeSessionCheck(pool: pg.Pool): SessionCheck {
  return async (claims) => {
    const { rows } = await pool.query<SessionClaimsRow>({
      name: "tessera_session_claims",
      text: "select * from app_hidden.session_claims($1::uuid[])",
      values: [[claims.sid]],
    });
    const session = rows[0];
    if (!session) throw new AppError("UNAUTHENTICATED", SESSION_ENDED);
    if (session.user_id !== claims.sub.toLowerCase() || session.tenant_id !== claims.tid.toLowerCase()) {
      throw new AppError("UNAUTHENTICATED", "The access token is not valid.");
    }
    return { ...claims, sub: session.user_id, tid: session.tenant_id, sid: session.session_id, role: session.role };
  };
}

export function makeLiveSessions(pool: pg.Pool): LiveSessions {
  return async (sessionIds) => {
    if (sessionIds.length === 0) return new Set();
    const { rows } = await pool.query<{ session_id: string }>({
      name: "tessera_live_sessions",
      text: "select session_id from app_hidden.session_claims($1::uuid[])",
      values: [sessionIds],
    });
    return new Set(rows.map((row) => row.session_id));
  };
}
