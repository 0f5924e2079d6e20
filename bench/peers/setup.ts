/**
 * What the bench's parent process hands each server process it starts (in PEERS_SETUP), and how a
 * server process tells the parent its port.
 */
import type { DatabaseUrls } from "../../src/platform/config.ts";

export interface PeersSetup {
  urls: DatabaseUrls;
  jwtSecret: string;
  statementTimeoutMs: number;
  botRequestsPerMinute: number;
}

export function readSetup(): PeersSetup {
  const raw = process.env.PEERS_SETUP;
  if (!raw) throw new Error("PEERS_SETUP is not set: start this server through bench/peers/run.ts");
  return JSON.parse(raw) as PeersSetup;
}
