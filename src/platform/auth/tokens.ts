/**
 * Access tokens: HS256 JWTs carrying the claims every request turns into database settings.
 * Verification is strict — a token that is present but malformed, wrongly signed or expired is an
 * error, never a silent fall-back to anonymous.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { AppError } from "../errors.ts";

export interface AccessClaims {
  /** User id. */
  sub: string;
  /** Tenant id. */
  tid: string;
  /** Session id. */
  sid: string;
  /** Token id. */
  jti: string;
  /** The user's role name within the tenant (owner, admin, manager, member). */
  role: string;
  /** Expiry, seconds since the epoch (set on verified tokens; signing takes a TTL instead). */
  exp?: number;
}

const AUDIENCE = "tessera";
const ISSUER = "tessera";

/** The header of every token signed here, encoded once. */
const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

/**
 * Signs an access token: HS256 over the claims with `iat`, `exp`, `aud`, `iss` and `jti`, the token
 * jsonwebtoken would make (it still verifies them). Written out because jsonwebtoken's option
 * checks, its stream-based signer and a fresh HMAC context cost 5 % of a refresh's CPU. `iat` is in
 * whole seconds, as `exp` is (`exp` = `iat` + `ttlSeconds`).
 */
export function signAccessToken(
  claims: AccessClaims,
  secret: string,
  ttlSeconds: number,
  iat = Math.floor(Date.now() / 1000),
): string {
  const { jti, exp: _exp, ...rest } = claims;
  const payload = { ...rest, iat, exp: iat + ttlSeconds, aud: AUDIENCE, iss: ISSUER, jti };
  const signed = `${HEADER}.${Buffer.from(JSON.stringify(payload), "utf8").toString("base64url")}`;
  return `${signed}.${createHmac("sha256", stateOf(secret).key).update(signed, "ascii").digest("base64url")}`;
}

/**
 * What is kept for the current secret: its HMAC key, made once (given a string, jsonwebtoken first
 * tries to read it as a PEM public key and only then makes a secret key, on every call: a tenth of
 * a request's CPU), and the token strings verified under it.
 */
let current: { secret: string; key: KeyObject; verified: Map<string, AccessClaims> } | undefined;

function stateOf(secret: string): NonNullable<typeof current> {
  if (current?.secret !== secret) {
    current = { secret, key: createSecretKey(Buffer.from(secret, "utf8")), verified: new Map() };
  }
  return current;
}

/**
 * Verifies a bearer token; throws UNAUTHENTICATED with a reason a client can act on. A token
 * without `exp` is refused (jsonwebtoken would accept it as never expiring). The user, tenant and
 * role it names are only what the token says: the session check (sessionCheck.ts) replaces them
 * with the database's answer.
 */
export function verifyAccessToken(token: string, secret: string): AccessClaims {
  // A token string verified under this secret before needs no second HMAC: only its expiry can change.
  const { verified } = stateOf(secret);
  const known = verified.get(token);
  if (known) {
    if ((known.exp ?? 0) * 1000 > Date.now()) return { ...known };
    verified.delete(token);
    throw new AppError("UNAUTHENTICATED", "The access token has expired.");
  }
  const claims = verifySignedToken(token, secret);
  if (verified.size >= VERIFIED_TOKENS_MAX) verified.delete(verified.keys().next().value!);
  verified.set(token, claims);
  return { ...claims };
}

/**
 * How many verified tokens are remembered (about 400 bytes each). Each request of a signed-in
 * client carries the same token until it refreshes, so a few thousand cover every active client
 * of one process; past that the oldest is forgotten (and verified again when it comes back).
 */
const VERIFIED_TOKENS_MAX = 2_000;

/**
 * The longest lifetime of an access token: ACCESS_TOKEN_TTL_MINUTES goes up to it, and a token
 * that claims a longer one is refused.
 */
export const ACCESS_TOKEN_MAX_MINUTES = 24 * 60;
/** How far ahead of this server's clock another server's `iat` may be. */
const CLOCK_SKEW_SECONDS = 60;

function verifySignedToken(token: string, secret: string): AccessClaims {
  let verified: jwt.Jwt;
  try {
    verified = jwt.verify(token, stateOf(secret).key, {
      algorithms: ["HS256"],
      audience: AUDIENCE,
      issuer: ISSUER,
      complete: true,
    });
  } catch (error) {
    const reason =
      error instanceof jwt.TokenExpiredError ? "The access token has expired." : "The access token is not valid.";
    throw new AppError("UNAUTHENTICATED", reason, { cause: error });
  }
  const payload = verified.payload;
  // Well signed is not enough: only the tokens this code issues pass — no header extension it would
  // have to understand (`crit`), whole-second times, issued not after now, for at most a day.
  if (
    "crit" in verified.header ||
    typeof payload === "string" ||
    !isUuid(payload.sub) ||
    !isUuid(payload.tid) ||
    !isUuid(payload.sid) ||
    typeof payload.role !== "string" ||
    !Number.isSafeInteger(payload.exp) ||
    !Number.isSafeInteger(payload.iat) ||
    payload.iat! > Date.now() / 1000 + CLOCK_SKEW_SECONDS ||
    payload.exp! <= payload.iat! ||
    payload.exp! - payload.iat! > ACCESS_TOKEN_MAX_MINUTES * 60
  ) {
    throw new AppError("UNAUTHENTICATED", "The access token is not valid.");
  }
  return {
    sub: payload.sub,
    tid: payload.tid,
    sid: payload.sid,
    jti: String(payload.jti ?? ""),
    role: payload.role,
    exp: payload.exp,
  };
}

/** Reads an `Authorization` header value: undefined when absent, claims when valid, throws otherwise. */
export function claimsFromAuthorization(header: string | undefined, secret: string): AccessClaims | undefined {
  if (header === undefined || header === "") return undefined;
  const match = /^Bearer ([A-Za-z0-9_\-.=]+)$/i.exec(header.trim());
  if (!match?.[1]) throw new AppError("UNAUTHENTICATED", "The Authorization header must be 'Bearer <token>'.");
  return verifyAccessToken(match[1], secret);
}

function isUuid(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/**
 * The refresh token that succeeds a presented one: HMAC-SHA256 of the presented token under a key
 * derived (HKDF) from the server secret. Deterministic, so every concurrent or retried
 * presentation of one token inside the grace window gets the same successor — one winner, no
 * extra rotation — while the database still holds only SHA-256 hashes and nobody without the
 * secret can compute a successor.
 */
export function makeRefreshTokenSuccessor(serverSecret: string): (presented: string) => string {
  // A KeyObject, not the bytes: given a Buffer, Node's createHmac first tries it as a KeyObject and
  // builds (and discards) an exception with the request's whole stack, on every call.
  const key = createSecretKey(Buffer.from(hkdfSync("sha256", serverSecret, "tessera", "refresh-token-successor", 32)));
  return (presented) => createHmac("sha256", key).update(presented, "utf8").digest("base64url");
}
