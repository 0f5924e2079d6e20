/**
 * With CAPTCHA_API_URL set, register needs a token the captcha service accepts (a local fake); a
 * service that cannot answer verifies nothing and says why in the log.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant } from "../helpers/fixtures.ts";

let captcha: Server;
const seen: unknown[] = [];
let app: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  captcha = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const parsed = JSON.parse(body) as { token?: string };
      seen.push(parsed);
      if (parsed.token === "broken") return void res.writeHead(503).end();
      // A redirect to a verifier that would say yes: not followed.
      if (parsed.token === "redirected") return void res.writeHead(307, { location: "/verify" }).end();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ success: parsed.token === "solved" }));
    });
  });
  await new Promise<void>((resolve) => captcha.listen(0, "127.0.0.1", resolve));
  const { port } = captcha.address() as AddressInfo;
  app = await startTestApp({ env: { CAPTCHA_API_URL: `http://127.0.0.1:${port}/verify` }, logLines });
  await createTenant(app.db.ownerPool, "humans");
});
afterAll(async () => {
  await app.stop();
  await new Promise((resolve) => captcha.close(resolve));
});

const attempt = (captchaToken?: string) =>
  request(app.url).post("/api/auth/register").send({
    tenant: "humans",
    email: "h@example.test",
    username: "human",
    password: "definitely a human being",
    captchaToken,
  });

test("no token or a rejected token is VALIDATION_FAILED and stores nothing; a solved one registers", async () => {
  const missing = await attempt();
  expect([missing.status, missing.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
  const rejected = await attempt("robot");
  expect([rejected.status, rejected.body.error.details]).toEqual([400, { fields: { captchaToken: "invalid" } }]);
  expect((await app.db.ownerPool.query("select 1 from app_private.registrations")).rowCount).toBe(0);
  const solved = await attempt("solved");
  expect([solved.status, solved.body]).toEqual([
    202,
    expect.objectContaining({ registrationToken: expect.any(String) }),
  ]);
  expect(seen).toEqual([
    { token: "robot", remoteIp: expect.any(String) },
    { token: "solved", remoteIp: expect.any(String) },
  ]);
});

test("a captcha service that answers an error or a redirect verifies nothing, and the log says why", async () => {
  for (const token of ["broken", "redirected"]) {
    const before = logLines.length;
    const refused = await attempt(token);
    expect([refused.status, refused.body.error.details]).toEqual([400, { fields: { captchaToken: "invalid" } }]);
    const warnings = logLines
      .slice(before)
      .map((line) => JSON.parse(line) as { level: number; msg: string; status?: number; reason?: string })
      .filter((line) => line.level === 40 && line.msg.startsWith("the captcha service"));
    expect([token, warnings]).toEqual([
      token,
      [
        token === "broken"
          ? expect.objectContaining({ msg: "the captcha service answered an error status", status: 503 })
          : expect.objectContaining({
              msg: "the captcha service could not be asked",
              reason: expect.stringMatching(/redirect/),
            }),
      ],
    ]);
  }
  // The redirect was not followed: the service heard each token once.
  expect(seen.filter((body) => ["broken", "redirected"].includes((body as { token: string }).token))).toHaveLength(2);
});
