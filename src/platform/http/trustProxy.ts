import type { Express, Request } from "express";
import { ipAddressOf } from "./ipAddress.ts";

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
