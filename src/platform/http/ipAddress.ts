/**
 * One form for an IP address, whoever wrote it: the client address a proxy names (trustProxy.ts) and
 * the addresses a webhook's host resolves to (publicAddress.ts) are judged by the same rule.
 */
import { isIP } from "node:net";

/**
 * An address as an IP address in one form, or undefined. A trusted proxy may write the client into
 * X-Forwarded-For as `1.2.3.4:80`, `[2001:db8::1]:443` or with an IPv6 zone (`fe80::1%eth0`), and
 * Express hands on whatever stands there: such a value reached the `inet` column of a session and
 * every login from that proxy failed. The port and zone are dropped, an IPv6 address takes one
 * spelling; anything that is still not an address stands for nobody known.
 */
export function ipAddressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (isIP(value) === 4) return value;
  const candidate =
    /^\[([^\]]+)\](?::\d{1,5})?$/.exec(value)?.[1] ?? /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(value)?.[1] ?? value;
  // Node's isIP takes an IPv6 zone (`%eth0`), which PostgreSQL's inet refuses.
  const withoutZone = candidate.replace(/%[^%]*$/, "");
  const kind = isIP(withoutZone);
  return kind === 6 ? canonicalIpv6(withoutZone) : kind === 4 ? withoutZone : undefined;
}

/**
 * One spelling per IPv6 address (lower case, zeros compressed, as the URL standard writes it), and
 * an IPv4-mapped one (`::ffff:1.2.3.4`, `0:0:0:0:0:ffff:102:304`…) as the IPv4 address it carries:
 * each spelling had been a per-IP bucket of its own.
 */
function canonicalIpv6(address: string): string {
  let known = canonicalSpellings.get(address);
  if (known === undefined) {
    if (canonicalSpellings.size >= 1_000) canonicalSpellings.clear();
    known = spell(address);
    canonicalSpellings.set(address, known);
  }
  return known;
}

/**
 * `req.ip` asks for the socket's address on every request, and a dual-stack server's IPv4 clients
 * come as `::ffff:…`: the spellings seen are remembered (at most 1,000, then forgotten at once).
 */
const canonicalSpellings = new Map<string, string>();

function spell(address: string): string {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}
