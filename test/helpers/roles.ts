/** Runs statements as the request role inside a transaction that is always rolled back. */
import type pg from "pg";

export async function asVisitor<T>(
  rootPool: pg.Pool,
  visitorRole: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await rootPool.connect();
  try {
    await client.query("begin");
    await client.query(`set local role ${visitorRole}`);
    return await fn(client);
  } finally {
    await client.query("rollback");
    client.release();
  }
}
