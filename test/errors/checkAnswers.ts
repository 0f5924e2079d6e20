/** Reading a refused check's answer: its code, and the field and reason its details name. */
export type Answer = { errors?: Array<{ extensions?: { code?: string; details?: Record<string, unknown> } }> };

export const firstError = (body: Answer) => {
  const error = body.errors?.[0]?.extensions;
  return { code: error?.code, field: error?.details?.field, reason: error?.details?.reason };
};

/** VALIDATION_FAILED naming `field`, for `reason`. */
export const refusal = (field: string, reason: string) => ({ code: "VALIDATION_FAILED", field, reason });
