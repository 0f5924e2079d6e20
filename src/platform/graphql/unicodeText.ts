/**
 * GraphQL requests over HTTP whose text is not Unicode are refused (400 VALIDATION_FAILED,
 * `details.reason` NOT_UNICODE) before anything runs: a POST body whose bytes are not UTF-8 or, in
 * JSON, escape a lone surrogate (`"\ud800"`, anywhere: keys, unknown fields, duplicates); a GET whose
 * query string's %-escapes are not UTF-8 or whose `variables` or `extensions` escape a lone
 * surrogate. See src/platform/http/unicode.ts.
 *
 * So is JSON giving a key twice in one object, and a GET parameter given twice (`details.reason`
 * DUPLICATE_KEY, as REST and the WebSocket refuse them): the parser reads the last `query` or
 * variable, where a proxy or a log in front may read the first.
 */
import { isUtf8 } from "node:buffer";
import { SafeError } from "postgraphile/grafast";
import {
  duplicateKey,
  escapesWellFormed,
  isUnicodeJson,
  isValidPercentEncoding,
  notUnicode,
  searchOf,
} from "../http/unicode.ts";

type Digest = {
  headers: Record<string, string | undefined>;
  getBody(): Promise<{ type: string; buffer?: Buffer }>;
  getQueryParams(): Record<string, unknown> | Promise<Record<string, unknown>>;
  requestContext: { node?: { req: { url?: string } } };
};

/** The GET parameters that grafserv parses as JSON. */
const JSON_PARAMETERS = ["variables", "extensions"];

/** The GET parameters grafserv reads one of: given twice, it keeps neither or one. */
const SINGLE_PARAMETERS = ["query", "operationName", ...JSON_PARAMETERS];

function refusal(part: string): SafeError {
  const { message, details } = notUnicode(part);
  return new SafeError(message, { code: "VALIDATION_FAILED", details, statusCode: 400 });
}

function givenTwice(key: string, where: string): SafeError {
  return new SafeError(`The ${where} gives the key ${JSON.stringify(key)} twice.`, {
    code: "VALIDATION_FAILED",
    details: { reason: "DUPLICATE_KEY" },
    statusCode: 400,
  });
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
          const twice = json && body.buffer ? duplicateKey(body.buffer.toString("utf8")) : undefined;
          if (twice !== undefined) throw givenTwice(twice, "body");
          return body;
        };
        digest.getQueryParams = async () => {
          if (!isValidPercentEncoding(searchOf(digest.requestContext.node?.req.url))) throw refusal("query string");
          const params = await getQueryParams.call(digest);
          for (const name of SINGLE_PARAMETERS)
            if (Array.isArray(params[name]) && params[name].length > 1) throw givenTwice(name, "query string");
          // Past the check above, each of these is one value (a string) or none.
          for (const name of JSON_PARAMETERS) {
            const [value] = ([] as unknown[]).concat(params[name] ?? []);
            if (typeof value !== "string") continue;
            if (!escapesWellFormed(value)) throw refusal(name);
            const twice = duplicateKey(value);
            if (twice !== undefined) throw givenTwice(twice, name);
          }
          return params;
        };
        return next();
      },
    },
  },
};
