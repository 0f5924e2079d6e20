/** Random tokens, their hashes, one-time codes, and encryption of secrets at rest (TOTP, bot tokens). */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomInt } from "node:crypto";

/** An opaque token of 256 bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Tokens and codes are stored as SHA-256: they are random, so a slow hash adds nothing. */
export function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** A uniformly random 6-digit code. */
export function sixDigitCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, "0");
}

/** Ten recovery codes like `k3v9-x2qa-7mfd`. */
export function recoveryCodes(count = 10): string[] {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 }, () =>
      Array.from({ length: 4 }, () => alphabet[randomInt(alphabet.length)]).join(""),
    ).join("-"),
  );
}

/**
 * AES-256-GCM with a key derived (HKDF-SHA256) from TOTP_ENCODE_SECRET; output `v1.<iv>.<tag>.<data>`.
 * `purpose` is HKDF's info: each use (TOTP secrets, bot tokens) has a key of its own, and a value
 * sealed for one purpose does not open for another. The default is the TOTP secrets' original info.
 */
export function makeSecretBox(encodeSecret: string, purpose = "totp-secret-encryption") {
  const key = Buffer.from(hkdfSync("sha256", encodeSecret, "tessera", purpose, 32));
  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return ["v1", iv, cipher.getAuthTag(), data]
        .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
        .join(".");
    },
    open(sealed: string): string {
      const [version, iv, tag, data] = sealed.split(".");
      if (version !== "v1" || !iv || !tag || !data) throw new Error("unknown sealed secret format");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
    },
  };
}
export type SecretBox = ReturnType<typeof makeSecretBox>;
