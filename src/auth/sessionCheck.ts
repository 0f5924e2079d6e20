/** Every authenticated request proves its session is still live in the database. */
import type pg from "pg";
import { AppError } from "../errors.ts";
import type { AccessClaims } from "./tokens.ts";

export type SessionCheck = (claims: AccessClaims) => Promise<void>;

/** `pool` connects as the authenticator, which may execute app_hidden.session_is_live only. */
export function makeSessionCheck(pool: pg.Pool): SessionCheck {
  return async (claims) => {
    const { rows } = await pool.query<{ live: boolean }>("select app_hidden.session_is_live($1) as live", [claims.sid]);
    if (!rows[0]?.live) throw new AppError("UNAUTHENTICATED", "The session has ended; sign in again.");
  };
}
