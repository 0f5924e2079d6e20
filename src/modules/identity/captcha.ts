/**
 * Captcha check against CAPTCHA_API_URL: POST {"token","remoteIp"} → {"success": true}. The shape
 * of hCaptcha/Turnstile-style verify endpoints, behind a proxy of ours that holds the secret.
 * A service that cannot answer (an error status, a redirect, which is not followed, a timeout, an
 * answer over 64 KiB or not JSON) verifies nothing, and says why at warn level: otherwise every
 * sign-up would be refused with nothing in the log to tell the operator why.
 */
import { upstreamFailure, upstreamText } from "../../platform/http/upstreamBody.ts";
import type { Logger } from "../../platform/logger.ts";
import type { CaptchaVerifier } from "./callers.ts";

const CAPTCHA_TIMEOUT_MS = 5000;
const CAPTCHA_MAX_ANSWER_BYTES = 64 * 1024;

export function makeCaptchaVerifier(url: string, logger: Logger): CaptchaVerifier {
  return async (token, caller) => {
    if (!token) return false;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, remoteIp: caller.ip }),
        signal: AbortSignal.timeout(CAPTCHA_TIMEOUT_MS),
        redirect: "error",
      });
      if (!response.ok) {
        await response.body?.cancel();
        logger.warn({ status: response.status }, "the captcha service answered an error status");
        return false;
      }
      const body = JSON.parse(await upstreamText(response, CAPTCHA_MAX_ANSWER_BYTES)) as { success?: unknown };
      return body.success === true;
    } catch (error) {
      logger.warn({ reason: upstreamFailure(error) }, "the captcha service could not be asked");
      return false;
    }
  };
}
