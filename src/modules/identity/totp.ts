/** TOTP (RFC 6238) with otplib: 30-second steps, 6 digits, ±1 step of clock skew. */
import { generateSecret, generateURI, verify } from "otplib";

const PERIOD = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret });
}

/** The time step the code matched (for replay protection), or null when it does not match. */
export async function matchTotp(secret: string, code: string): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const result = await verify({ secret, token: code, epochTolerance: PERIOD });
  if (!result.valid || !("epoch" in result)) return null;
  return Math.floor(result.epoch / PERIOD);
}
