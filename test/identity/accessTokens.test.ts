/**
 * Access tokens signed by our own HS256 code are the tokens a JWT library expects: jsonwebtoken,
 * used here as the reference, verifies them with the audience, issuer and algorithm we require, and
 * reads back every claim. A token altered after signing, or signed under another secret, is refused.
 */
import { createHmac, hkdfSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { makeRefreshTokenSuccessor, signAccessToken, verifyAccessToken } from "../../src/platform/auth/tokens.ts";
import { TEST_JWT_SECRET as SECRET } from "../helpers/fixtures.ts";

const claims = {
  sub: "6f1c2c1e-2d7a-4a55-9a43-0d4b6b9b8a01",
  tid: "0b8c1f0e-7c55-4f0a-8a4b-3b6e2f1d9c02",
  sid: "3a9d6e2b-1f4c-4b8e-9d2a-5c7e8f0a1b03",
  jti: "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c04",
  // A custom role's name is the tenant's own text: the claims are UTF-8 JSON.
  role: "organisatrice ✓ 主催者",
};

test("a signed token is what jsonwebtoken verifies, with every claim", () => {
  const before = Math.floor(Date.now() / 1000);
  const token = signAccessToken(claims, SECRET, 900);
  const payload = jwt.verify(token, SECRET, { algorithms: ["HS256"], audience: "tessera", issuer: "tessera" });
  expect(payload).toEqual({
    sub: claims.sub,
    tid: claims.tid,
    sid: claims.sid,
    jti: claims.jti,
    role: claims.role,
    aud: "tessera",
    iss: "tessera",
    iat: expect.any(Number),
    exp: expect.any(Number),
  });
  const { iat, exp } = payload as jwt.JwtPayload;
  expect(iat).toBeGreaterThanOrEqual(before);
  expect(exp! - iat!).toBe(900);
  expect(jwt.decode(token, { complete: true })?.header).toEqual({ alg: "HS256", typ: "JWT" });
  expect(verifyAccessToken(token, SECRET)).toEqual({ ...claims, exp });
});

test("a token altered after signing or signed under another secret is refused", () => {
  const token = signAccessToken(claims, SECRET, 900);
  const [header, payload, signature] = token.split(".");
  const altered = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), role: "owner" }),
  ).toString("base64url");
  for (const bad of [`${header}.${altered}.${signature}`, signAccessToken(claims, `${SECRET}!`, 900)]) {
    expect(() => verifyAccessToken(bad, SECRET)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  }
});

test("a refresh token's successor stays HMAC-SHA256 of it under the HKDF-derived key", () => {
  // Servers of two versions behind one load balancer must agree on a successor, or a retried
  // refresh inside the grace window would see its token as reused.
  const key = Buffer.from(hkdfSync("sha256", SECRET, "tessera", "refresh-token-successor", 32));
  const successor = makeRefreshTokenSuccessor(SECRET);
  expect(successor("presented-token")).toBe(createHmac("sha256", key).update("presented-token").digest("base64url"));
  expect(successor("another-token")).not.toBe(successor("presented-token"));
  expect(makeRefreshTokenSuccessor(`${SECRET}!`)("presented-token")).not.toBe(successor("presented-token"));
});

test("a well-signed token we would never issue is refused: unknown crit, iat ahead, a lifetime past a day", () => {
  const now = Math.floor(Date.now() / 1000);
  const base = { ...claims, aud: "tessera", iss: "tessera" };
  const forged = [
    ["crit", jwt.sign({ ...base, iat: now, exp: now + 900 }, SECRET, { header: { alg: "HS256", crit: ["x"] } })],
    ["iat a day ahead", jwt.sign({ ...base, iat: now + 86_400, exp: now + 87_300 }, SECRET)],
    ["no iat", jwt.sign({ ...base, exp: now + 900 }, SECRET, { noTimestamp: true })],
    ["exp 1e20", jwt.sign({ ...base, iat: now, exp: 1e20 }, SECRET)],
    ["a fractional exp", jwt.sign({ ...base, iat: now, exp: now + 900.5 }, SECRET)],
    ["25 hours", jwt.sign({ ...base, iat: now, exp: now + 25 * 3600 }, SECRET)],
  ] as const;
  const refusal = (token: string) => {
    try {
      verifyAccessToken(token, SECRET);
      return "accepted";
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };
  expect(forged.map(([what, token]) => [what, refusal(token)])).toEqual(
    forged.map(([what]) => [what, "UNAUTHENTICATED"]),
  );
  // What we issue, at the longest lifetime configurable (24 hours), and a clock a little ahead, pass.
  expect(() => verifyAccessToken(signAccessToken(claims, SECRET, 86_400), SECRET)).not.toThrow();
  expect(() => verifyAccessToken(signAccessToken(claims, SECRET, 900, now + 30), SECRET)).not.toThrow();
});
