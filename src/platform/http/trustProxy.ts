import { isIP } from "node:net";
import type { Express, Request } from "express";

/**
 * Express's compiled `trust proxy` rule, remembering its answers. Express calls it with the
 * socket's address for every `req.ip`, `req.protocol` and `req.secure` (grafserv reads `req.secure`
 * on each request), and the rule parses the address anew each time. The rule is a pure function
 * of the address and the hop; at most 1,000 answers are kept, then they are forgotten at once.
 */
export function rememberedTrust(trust: (address: string, hop: number) => boolean) {
  const answers = new Map<string, boolean>();
  return (address: string, hop: number): boolean => {
    if (typeof address !== "string") return trust(address, hop);
    const key = hop === 0 ? address : `${hop} ${address}`;
    let answer = answers.get(key);
    if (answer === undefined) {
      if (answers.size >= 1_000) answers.clear();
      answer = trust(address, hop);
      answers.set(key, answer);
    }
    return answer;
  };
}

/**
 * The client's address as an IP address, or undefined. A trusted proxy may write the client into
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
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/**
 * `req.ip` as an IP address (ipAddressOf of what Express's `trust proxy` rule gives): when a trusted
 * proxy names no address the client is known by, the request is the proxy's own, its socket's peer.
 */
export function installClientAddress(app: Express): void {
  const expressIp = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.request), "ip")?.get;
  if (!expressIp) throw new Error("Express's request has no `ip` getter to build on");
  Object.defineProperty(app.request, "ip", {
    configurable: true,
    enumerable: true,
    get(this: Request) {
      return ipAddressOf(expressIp.call(this)) ?? ipAddressOf(this.socket?.remoteAddress);
    },
  });
}
