/**
 * Credentials at rest: `{login, password, url}` sealed with AES-256-GCM under a key derived from
 * TOTP_ENCODE_SECRET for this purpose only (never the TOTP secrets' key).
 */
import { makeSecretBox, type SecretBox } from "../../platform/auth/secrets.ts";
import type { Config } from "../../platform/config.ts";
import { identityConfig } from "../identity/config.ts";

export interface Credentials {
  login: string;
  password: string;
  url: string;
}

export const CREDENTIALS_PURPOSE = "subscription-credentials";

export function credentialsBox(config: Config): SecretBox {
  return makeSecretBox(identityConfig.of(config).totpEncodeSecret, CREDENTIALS_PURPOSE);
}

export const sealCredentials = (box: SecretBox, credentials: Credentials): string =>
  box.seal(JSON.stringify({ login: credentials.login, password: credentials.password, url: credentials.url }));

export function openCredentials(box: SecretBox, sealed: string): Credentials {
  const value = JSON.parse(box.open(sealed)) as Credentials;
  return { login: value.login, password: value.password, url: value.url };
}
