/**
 * POST /api/webhook/payments/{provider}: the signature is checked over the raw bytes (read here,
 * before the platform's JSON parser could re-serialise them), then one SQL call settles the payment
 * and records the delivery, in one transaction. Refused signed deliveries are recorded too, after
 * the rollback; unsigned ones only logged. The answer never waits on anyone else: pushes to bots
 * are jobs.
 */
import express, { type Router } from "express";
import type pg from "pg";
import { AppError, toAppError } from "../../platform/errors.ts";
import { declaredCharset, declaredLengthLimit, isUtf8Charset } from "../../platform/http/requestBody.ts";
import { caseSensitiveRouter } from "../../platform/http/routeTable.ts";
import { verifyWebhook } from "../../platform/http/standardWebhooks.ts";
import { duplicateKey, duplicateKeyRefusal, isUnicodeJson, notUnicode } from "../../platform/http/unicode.ts";
import type { Logger } from "../../platform/logger.ts";
import { ProviderWebhook } from "./schemas.ts";

const rawBodies = new WeakMap<express.Request, Buffer>();
const WEBHOOK_BODY_LIMIT = 64 * 1024;

/** Reads the raw body of webhook deliveries (at most 64 KiB) before any body parser runs. */
export function webhookBodyReader(): Router {
  return caseSensitiveRouter().post(
    "/webhook/payments/:provider",
    declaredLengthLimit(WEBHOOK_BODY_LIMIT),
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    (req, _res, next) => {
      rawBodies.set(req, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      next();
    },
  );
}

type Outcome = "succeeded" | "failed" | "unchanged" | "duplicate";

/** The outcome recorded for a signed, well-formed delivery the settling refused, by error code. */
const OUTCOME_OF_ERROR: Record<string, string> = {
  NOT_FOUND: "unknown_payment",
  PAYMENT_AMOUNT_MISMATCH: "amount_mismatch",
  // A rule of the ledger (a deposit its balance can no longer hold), not the body's form.
  VALIDATION_FAILED: "refused",
};

export function webhookReceiver(ownerPool: pg.Pool, key: Buffer, logger: Logger) {
  const record = async (provider: string, webhookId: string, outcome: string, status: number, detail: string) => {
    try {
      await ownerPool.query(
        `insert into app_private.payment_webhooks (provider, webhook_id, outcome, http_status, detail)
         values ($1, $2, $3, $4, left($5, 500))`,
        // PostgreSQL's text holds no NUL: a parser's message may quote one from the body.
        [provider, webhookId, outcome, status, detail.replaceAll("\u0000", "\\u0000")],
      );
    } catch (error) {
      logger.error({ err: error }, "could not record a refused payment webhook");
    }
  };

  return async (provider: string, req: express.Request): Promise<Outcome> => {
    const body = rawBodies.get(req) ?? Buffer.alloc(0);
    const header = req.headers["webhook-id"];
    const webhookId = typeof header === "string" ? header.slice(0, 200) : undefined;
    const check = verifyWebhook(key, req.headers, body);
    if (!check.ok) {
      // Anyone can send one: logged, never written (a row per refusal was a table any client could
      // fill). Refusals of signed deliveries, below, are the provider's and are recorded.
      logger.warn({ provider, webhookId, reason: check.reason }, "a payment webhook without a valid signature");
      throw new AppError("INVALID_SIGNATURE", `The webhook signature is not valid: ${check.reason}.`);
    }
    // A body that is not JSON in UTF-8 is refused as every JSON route refuses it, never read
    // loosely: a lone surrogate or a byte that is not UTF-8 would reach the lookup as U+FFFD.
    const charset = declaredCharset(req);
    if (!req.is("application/json") || (charset && !isUtf8Charset(charset))) {
      const type = JSON.stringify((req.get("content-type") ?? "").slice(0, 100));
      await record(provider, check.id, "malformed", 415, `content type ${type}`);
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the webhook body as application/json in UTF-8.");
    }
    if (!isUnicodeJson(body)) {
      await record(provider, check.id, "malformed", 400, "the body is not valid Unicode text");
      throw notUnicode("body");
    }
    // A key twice (`"type"` failed, then succeeded): JSON.parse keeps the last, where whatever reads the
    // body in front of us — a proxy, a log, the provider's own dashboard — may read the first.
    const twice = duplicateKey(body.toString("utf8"));
    if (twice !== undefined) {
      await record(provider, check.id, "malformed", 400, `the key ${JSON.stringify(twice)} twice in one object`);
      throw duplicateKeyRefusal(twice);
    }
    let json: unknown;
    try {
      // A leading byte order mark is read past, as every JSON route reads past it.
      json = JSON.parse(body.toString("utf8").replace(/^\uFEFF/, ""));
    } catch {
      const detail = "the body is not valid JSON";
      await record(provider, check.id, "malformed", 400, detail);
      throw new AppError("VALIDATION_FAILED", "The webhook body is not a payment event.", { details: { detail } });
    }
    const parsed = ProviderWebhook.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues
        .map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`)
        .join("; ");
      await record(provider, check.id, "malformed", 400, detail);
      throw new AppError("VALIDATION_FAILED", "The webhook body is not a payment event.", { details: { detail } });
    }
    const event = parsed.data;
    try {
      const { rows } = await ownerPool.query<{ outcome: Outcome }>(
        "select app_private.receive_payment_webhook($1, $2, $3, $4, $5, $6) as outcome",
        [provider, check.id, event.type, event.data.providerPaymentId, event.data.amount, event.data.currency],
      );
      return rows[0]!.outcome;
    } catch (error) {
      const appError = toAppError(error);
      await record(provider, check.id, OUTCOME_OF_ERROR[appError.code] ?? "error", appError.status, appError.message);
      throw appError;
    }
  };
}
