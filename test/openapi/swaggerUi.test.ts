/**
 * Swagger UI renders in a real headless Chromium: the machine's own (/usr/bin/chromium, Debian's
 * `chromium` package) driven by playwright-core, which never downloads a browser. The page loads
 * /openapi.json and lists the operations; every request it makes goes to the test server (no CDN).
 * A screenshot is kept in test-artifacts/swagger-ui.png.
 *
 * Without /usr/bin/chromium the test is skipped, saying so — unless REQUIRE_CHROMIUM=1 (CI sets it
 * once it has installed the browser), where a missing browser fails it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { projectRoot } from "../../src/platform/paths.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const required = process.env.REQUIRE_CHROMIUM === "1";
const SCREENSHOT = join(projectRoot, "test-artifacts", "swagger-ui.png");
/** A failure bound for the page to render, not a wait: it renders in about a second. */
const RENDER_DEADLINE_MS = 30_000;

if (!present && !required)
  process.stdout.write(
    `swaggerUi.test.ts: ${CHROMIUM} is absent, the Swagger UI test is skipped (apt-get install chromium)\n`,
  );

let app: TestApp | undefined;
beforeAll(async () => {
  if (present) app = await startTestApp();
});
afterAll(() => app?.stop());

const title = present || required ? "Swagger UI" : `Swagger UI (skipped: ${CHROMIUM} is absent)`;
(present || required ? test : test.skip)(
  `${title} renders the operations of /openapi.json in headless Chromium`,
  async () => {
    if (!present) throw new Error(`REQUIRE_CHROMIUM=1 but ${CHROMIUM} is absent: apt-get install -y chromium`);
    const userDataDir = mkdtempSync(join(tmpdir(), "tessera-chromium-"));
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 2000 },
    });
    try {
      const page = await browser.newPage();
      const requested: string[] = [];
      const pageErrors: string[] = [];
      page.on("request", (request) => requested.push(request.url()));
      page.on("pageerror", (error) => pageErrors.push(error.message));
      const response = await page.goto(`${app!.url}/swagger-ui`, { timeout: RENDER_DEADLINE_MS });
      expect(response?.status()).toBe(200);
      // Each operation is an .opblock; its path is in .opblock-summary-path.
      await page.waitForSelector(".opblock .opblock-summary-path", { timeout: RENDER_DEADLINE_MS });
      const paths = await page.$$eval(".opblock-summary-path", (nodes) =>
        nodes.map((node) => node.getAttribute("data-path") ?? node.textContent ?? ""),
      );
      for (const path of ["/api/auth/login", "/api/users/me", "/api/images/{id}", "/health", "/openapi.json"])
        expect(paths).toContain(path);
      expect(paths.some((path) => path.startsWith("/api/bot/"))).toBe(true);
      expect(await page.textContent(".info .title")).toContain("Tessera REST API");
      mkdirSync(join(projectRoot, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: false });
      expect(pageErrors).toEqual([]);
      // Assets and the document come from this server alone.
      expect(requested.filter((url) => !url.startsWith(`${app!.url}/`))).toEqual([]);
      expect(requested).toContain(`${app!.url}/openapi.json`);
      expect(requested).toContain(`${app!.url}/swagger-ui/swagger-ui-bundle.js`);
    } finally {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  },
);
