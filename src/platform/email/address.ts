/**
 * What an e-mail address is, wherever one is taken in (sign-up, operators' jobs) or mailed to:
 * one "@", no blank, a dotted domain, at most 254 characters, and no control or invisible
 * character — a line break would start another header, a right-to-left override (U+202E) makes an
 * address read as another.
 */
export const MAIL_ADDRESS_SHAPE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const CONTROL_OR_INVISIBLE = /[\p{Cc}\p{Cf}]/u;
export const MAIL_ADDRESS_MAX = 254;

export function isMailAddress(text: string): boolean {
  return text.length <= MAIL_ADDRESS_MAX && MAIL_ADDRESS_SHAPE.test(text) && !CONTROL_OR_INVISIBLE.test(text);
}
