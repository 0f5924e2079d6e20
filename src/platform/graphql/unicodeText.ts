/**
 * GraphQL requests over HTTP whose text is not Unicode are refused (400 VALIDATION_FAILED,
 * `details.reason` NOT_UNICODE) before anything runs: a POST body whose bytes are not UTF-8 or, in
 * JSON, escape a lone surrogate (`"\ud800"`, anywhere: keys, unknown fields, duplicates); a GET whose
 * query string's %-escapes are not UTF-8 or whose `variables` or `extensions` escape a lone
 * surrogate. See src/platform/http/unicode.ts.
 */
import { isUtf8 } from "node:buffer";
import { SafeError } from "postgraphile/grafast";
import { escapesWellFormed, isUnicodeJson, isValidPercentEncoding, notUnicode, searchOf } from "../http/unicode.ts";

type Digest = {
  headers: Record<string, string | undefined>;
  getBody(): Promise<{ type: string; buffer?: Buffer }>;
  getQueryParams(): Record<string, unknown> | Promise<Record<string, unknown>>;
  requestContext: { node?: { req: { url?: string } } };
};

/** The GET parameters that grafserv parses as JSON. */
const JSON_PARAMETERS = ["variables", "extensions"];

function refusal(part: string): SafeError {
  const { message, details } = notUnicode(part);
  return new SafeError(message, { code: "VALIDATION_FAILED", details, statusCode: 400 });
}

export const UnicodeTextPlugin: GraphileConfig.Plugin = {
  name: "TesseraUnicodeText",
  version: "1.0.0",
  grafserv: {
    middleware: {
      processRequest(next, event) {
        const digest = event.requestDigest as unknown as Digest;
        const { getBody, getQueryParams } = digest;
        digest.getBody = async () => {
          // Express hands grafserv the body as bytes (read by grafserv, or by `authenticate`).
          const body = await getBody.call(digest);
          const json = /json/i.test(digest.headers["content-type"] ?? "");
          if (body.buffer && !(json ? isUnicodeJson(body.buffer) : isUtf8(body.buffer))) throw refusal("body");
          return body;
        };
        digest.getQueryParams = async () => {
          if (!isValidPercentEncoding(searchOf(digest.requestContext.node?.req.url))) throw refusal("query string");
          const params = await getQueryParams.call(digest);
          for (const name of JSON_PARAMETERS) {
            const values = ([] as unknown[]).concat(params[name] ?? []);
            if (values.some((value) => typeof value === "string" && !escapesWellFormed(value))) throw refusal(name);
          }
          return params;
        };
        return next();
      },
    },
  },
};
