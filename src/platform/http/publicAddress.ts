/**
 * Outbound requests to addresses a tenant chose (a bot's webhook URL) must not reach the server's own
 * network: in stage and prod such a URL has to resolve only to public addresses. (A name that
 * resolves to a public address when checked and to a private one a moment later is not caught
 * here; the network's egress rules are the place for that.)
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { ipAddressOf } from "./ipAddress.ts";

const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  PRIVATE.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  PRIVATE.addSubnet(network, prefix, "ipv6");

export function isPrivateAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address, in any spelling (::ffff:10.0.0.1, ::ffff:a00:1), is the IPv4 address
  // it carries; anything that is not an address counts as private.
  const ip = ipAddressOf(address);
  if (ip === undefined) return true;
  return PRIVATE.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
}

/**
 * Why this URL may not be called from the server, or null when every address it resolves to is
 * public. The answer reaches the bot that set the URL: it names neither the addresses nor the
 * resolver's error, and a name that resolves inside reads as one that does not resolve, so that a key
 * holder cannot map the server's network through its resolver (`db` → 10.0.0.5).
 */
export async function privateTargetProblem(url: string): Promise<string | null> {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "not a URL";
  }
  const problem = `${host} does not resolve to public addresses only`;
  try {
    const addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true, verbatim: true });
    return addresses.some(({ address }) => isPrivateAddress(address)) ? problem : null;
  } catch {
    return problem;
  }
}
