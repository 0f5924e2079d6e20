/**
 * GraphQL requests over HTTP whose text is not Unicode are refused (400 VALIDATION_FAILED,
 * `details.reason` NOT_UNICODE) before anything runs: a POST body whose bytes are not UTF-8, a GET
 * whose query string's %-escapes are not, and a document, operation name, variable or extension
 * holding a lone surrogate (`"\ud800"` in JSON). See src/platform/http/unicode.ts.
 */
import { SafeError } from "postgraphile/grafast";
import { isUtf8 } from "node:buffer";
import { isValidPercentEncoding, isWellFormedValue, notUnicode, searchOf } from "../http/unicode.ts";

type Digest = {
  getBody(): Promise<{ type: string; buffer?: Buffer; text?: string }>;
  getQueryParams(): unknown;
  requestContext: { node?: { req: { url?: string } } };
};

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
          const body = await getBody.call(digest);
          if (body.buffer ? !isUtf8(body.buffer) : body.text !== undefined && !body.text.isWellFormed()) {
            throw refusal("body");
          }
          return body;
        };
        digest.getQueryParams = () => {
          if (!isValidPercentEncoding(searchOf(digest.requestContext.node?.req.url))) throw refusal("query string");
          return getQueryParams.call(digest);
        };
        return next();
      },
      processGraphQLRequestBody(next, event) {
        if (!isWellFormedValue(event.body)) throw refusal("document or variables");
        return next();
      },
    },
  },
};
