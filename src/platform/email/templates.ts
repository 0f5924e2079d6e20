/**
 * What an e-mail template is. Each module declares its templates in its manifest; send_email jobs
 * name one. Only the template meant to carry a secret (a code or a reset token) receives it,
 * through `data`; nothing else (logs included) ever sees it.
 */
import { z } from "zod";

export interface RenderedEmail {
  subject: string;
  text: string;
}

/**
 * A template: the data it reads, and how it lays them out. A send_email job whose data do not fit is
 * refused by `npm run task -- enqueue` and dropped by the task (it would fail the same way on every
 * attempt), never sent half-empty.
 */
export interface EmailTemplate {
  data: z.ZodType<Record<string, unknown>>;
  render(data: Record<string, unknown>): RenderedEmail;
}

/** A template whose data have these fields (others are ignored). */
export function emailTemplate<Shape extends z.ZodRawShape>(
  shape: Shape,
  render: (data: z.infer<z.ZodObject<Shape>>) => RenderedEmail,
): EmailTemplate {
  return { data: z.looseObject(shape), render: (data) => render(data as z.infer<z.ZodObject<Shape>>) };
}

/** A piece of text a template shows: something visible, not empty nor blanks only. */
export const TEXT = z.string().regex(/\S/, "must not be empty or blank");
/** A duration in minutes a template shows. */
export const MINUTES = z.number().int().nonnegative();

/** A value for a header such as the subject: one line (line breaks, of any kind, become spaces). */
export const line = (value: string): string => value.replace(/[\r\n\u2028\u2029]+/g, " ");
