/**
 * Captcha check against CAPTCHA_API_URL: POST {"token","remoteIp"} → {"success": true}. The shape
 * of hCaptcha/Turnstile-style verify endpoints, behind a proxy of ours that holds the secret.
 */
import { upstreamText } from "../../platform/http/upstreamBody.ts";
import type { CaptchaVerifier } from "./callers.ts";

export function makeCaptchaVerifier(url: string): CaptchaVerifier {
  return async (token, caller) => {
    if (!token) return false;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, remoteIp: caller.ip }),
        signal: AbortSignal.timeout(5000),
        redirect: "error",
      });
      if (!response.ok) return false;
      const body = JSON.parse(await upstreamText(response, 64 * 1024)) as { success?: unknown };
      return body.success === true;
    } catch {
      return false;
    }
  };
}
