/** Cron: records that a worker is alive, so monitoring can alert when the queue stops moving. */
import type { Task } from "graphile-worker";

export const heartbeat: Task = async (_payload, helpers) => {
  await helpers.query(
    `insert into app_private.worker_heartbeat (id, beat_at) values (true, now())
     on conflict (id) do update set beat_at = excluded.beat_at`,
  );
};
