/**
 * Response conformance: every answer of a documented operation that a test receives must be what
 * the OpenAPI document says — a documented status, a documented media type, and a JSON body valid
 * against the status's schema (ajv, JSON Schema 2020-12, the dialect of OpenAPI 3.1). Requests the
 * document does not describe (GraphQL, unknown paths or methods) are not checked.
 *
 * `startTestApp()` watches its server this way unless `openapiCheck: false`, and its `stop()` fails
 * listing the violations. Elsewhere: `const check = watchResponses(httpServer, document)`, then
 * `check.assertConforms()` at the end.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { OpenApiDocument } from "../../src/platform/http/openapi.ts";

// ajv-formats is CommonJS whose default export is the function; its types describe the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** Bodies larger than this are not kept (binary answers): their media type is still checked. */
const MAX_CAPTURE_BYTES = 1 << 20;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  responses: Record<string, { content?: Record<string, unknown> }>;
}

export interface ResponseCheck {
  /** Answers checked so far (a check that saw nothing proves nothing). */
  readonly checked: number;
  /** What did not conform: one line per answer. */
  readonly violations: readonly string[];
  /** Throws listing the violations (and forgets them), when there are any. */
  assertConforms(): void;
}

function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+");
    for (const [method, operation] of Object.entries(item))
      operations.push({
        method,
        template,
        pattern: new RegExp(`^${source}$`),
        params,
        responses: (operation as { responses: Operation["responses"] }).responses,
      });
  }
  // A literal path wins over a template (/api/users/me over /api/users/{id}), as the router's order does.
  return operations.sort((a, b) => a.params - b.params);
}

const pointer = (...segments: string[]) =>
  segments.map((segment) => segment.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

export function watchResponses(server: Server, document: OpenApiDocument): ResponseCheck {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document as object, "openapi.json");
  const operations = operationsOf(document);
  const violations: string[] = [];
  let checked = 0;

  const check = (operation: Operation, res: ServerResponse, body: Buffer | undefined, where: string) => {
    checked += 1;
    const status = String(res.statusCode);
    const response = operation.responses[status];
    if (!response) return void violations.push(`${where}: status ${status} is not documented`);
    const type = String(res.getHeader("content-type") ?? "")
      .split(";")[0]!
      .trim()
      .toLowerCase();
    const content = response.content ?? {};
    if (!type) {
      if (Object.keys(content).length > 0 && (body === undefined || body.length > 0))
        violations.push(`${where}: ${status} without a Content-Type, documented as ${Object.keys(content).join(", ")}`);
      return;
    }
    if (!(type in content))
      return void violations.push(
        `${where}: ${status} ${type} is not documented (${Object.keys(content).join(", ") || "no body"})`,
      );
    if (type !== "application/json" || body === undefined) return;
    let value: unknown;
    try {
      value = JSON.parse(body.toString("utf8"));
    } catch {
      return void violations.push(`${where}: ${status} is not JSON`);
    }
    const at = pointer("paths", operation.template, operation.method, "responses", status, "content", type, "schema");
    const ref = `openapi.json#/${at}`;
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    if (!validate(value)) {
      const problems = ajv.errorsText(validate.errors, { separator: "; " });
      violations.push(`${where}: ${status} body ${JSON.stringify(value).slice(0, 300)} — ${problems}`);
    }
  };

  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    const method = (req.method ?? "").toLowerCase();
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const operation = operations.find((candidate) => candidate.method === method && candidate.pattern.test(path));
    if (!operation) return;
    const where = `${req.method} ${path} (${operation.template})`;
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === "function") return;
      const buffer = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk as string, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
      size += buffer.length;
      if (size <= MAX_CAPTURE_BYTES) chunks.push(buffer);
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return write(chunk, ...rest);
    }) as ServerResponse["write"];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return end(chunk, ...rest);
    }) as ServerResponse["end"];
    res.once("finish", () =>
      check(operation, res, size <= MAX_CAPTURE_BYTES ? Buffer.concat(chunks) : undefined, where),
    );
  });

  return {
    get checked() {
      return checked;
    },
    get violations() {
      return violations;
    },
    assertConforms() {
      if (violations.length === 0) return;
      const lines = violations.splice(0);
      throw new Error(`${lines.length} answer(s) do not conform to the OpenAPI document:\n- ${lines.join("\n- ")}`);
    },
  };
}
