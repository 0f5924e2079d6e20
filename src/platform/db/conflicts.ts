/**
 * Transactions PostgreSQL aborts for another one — a deadlock's victim (40P01) or a serialization
 * failure (40001) — keep nothing, and the same work after the other transaction is what the client
 * would send next: the server sends it again itself, a few times, before answering CONFLICT
 * `CONCURRENT_TRANSACTION` (src/platform/errors.ts).
 */
import { isTransactionConflict } from "../errors.ts";

/** How many times a whole transaction is tried when PostgreSQL aborts it for a conflict. */
export const TRANSACTION_ATTEMPTS = 3;

/**
 * Runs `transaction` again while it fails for a conflict, up to TRANSACTION_ATTEMPTS in all; any
 * other error, or the last conflict, is thrown. `transaction` must be the whole transaction, begun
 * and ended (committed or rolled back) inside it, with no effect outside the database.
 */
export async function retryingConflicts<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransactionConflict(error)) throw error;
    }
  }
}
