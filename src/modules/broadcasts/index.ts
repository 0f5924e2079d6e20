/**
 * Broadcasts: a store's messages to its customers through one of its Telegram bots. Admins set a
 * bot's token (setBotToken), create broadcasts (createBroadcast: text, optional image, schedule,
 * audience filter), cancel pending ones and follow their counts live (broadcastUpdated). The worker
 * starts due broadcasts (cron) and sends them in batches, one job per batch (docs/broadcasts.md).
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { botTokenBox } from "./botTokens.ts";
import { broadcastsConfig } from "./config.ts";
import { BroadcastsPlugin } from "./graphql.ts";
import { broadcastDeliver, broadcastSchedule } from "./tasks.ts";

export const broadcasts: ModuleManifest = {
  name: "broadcasts",
  config: broadcastsConfig,
  graphqlPlugins: [BroadcastsPlugin],
  server({ config }) {
    return { graphqlContext: { botTokenBox: botTokenBox(config) } };
  },
  tasks: {
    broadcast_schedule: broadcastSchedule,
    broadcast_deliver: broadcastDeliver,
  },
  crontab: ["* * * * * broadcast_schedule ?id=broadcast_schedule&max=1"],
};
