/**
 * What an e-mail template is. Each module declares its templates in its manifest; send_email jobs
 * name one. Only the template meant to carry a secret (a code or a reset token) receives it,
 * through `data`; nothing else (logs included) ever sees it.
 */
export interface RenderedEmail {
  subject: string;
  text: string;
}

export type EmailTemplate = (data: Record<string, unknown>) => RenderedEmail;

/** A template value as text: strings and numbers as they are, anything else empty. */
export const str = (value: unknown): string =>
  typeof value === "string" || typeof value === "number" ? String(value) : "";

/** A value for a header such as the subject: one line (line breaks, of any kind, become spaces). */
export const line = (value: unknown): string => str(value).replace(/[\r\n\u2028\u2029]+/g, " ");
