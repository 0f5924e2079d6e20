/**
 * The one error-code table (SPEC §1). SQL raises errors with the SQLSTATEs listed here; GraphQL
 * and REST both map every error through `toAppError`, so a code means the same on every transport.
 */

interface ErrorSpec {
  /** HTTP status for REST, and for GraphQL requests that fail as a whole. */
  status: number;
  /** Default message safe to show to a client. */
  message: string;
  /** The custom SQLSTATE our SQL functions raise for this code, if any. */
  sqlstate?: string;
}

export const ERROR_TABLE = {
  VALIDATION_FAILED: { status: 400, message: "The input is not valid.", sqlstate: "TVALD" },
  WEAK_PASSWORD: { status: 400, message: "The password does not meet the password policy.", sqlstate: "TWEAK" },
  UNAUTHENTICATED: { status: 401, message: "Authentication is required or the access token is not valid.", sqlstate: "TAUTH" },
  INVALID_CREDENTIALS: { status: 401, message: "Invalid credentials.", sqlstate: "TCRED" },
  INVALID_TWO_FACTOR_CODE: { status: 401, message: "The two-factor code is not valid.", sqlstate: "T2FAC" },
  INVALID_TOKEN: { status: 401, message: "The token is not valid.", sqlstate: "TTOKN" },
  TOKEN_REUSED: { status: 401, message: "The refresh token was already used; the session is revoked.", sqlstate: "TREUS" },
  INVALID_SIGNATURE: { status: 401, message: "The signature is not valid.", sqlstate: "TSIGN" },
  FORBIDDEN: { status: 403, message: "You are not allowed to do this.", sqlstate: "TFORB" },
  NOT_FOUND: { status: 404, message: "Not found.", sqlstate: "TNFND" },
  CONFLICT: { status: 409, message: "The change conflicts with existing data.", sqlstate: "TCONF" },
  EVENT_FULL: { status: 409, message: "The event is full.", sqlstate: "TEFUL" },
  OUT_OF_STOCK: { status: 409, message: "The product is out of stock.", sqlstate: "TSTOK" },
  INSUFFICIENT_BALANCE: { status: 409, message: "The balance is insufficient.", sqlstate: "TBALN" },
  QUERY_TOO_COMPLEX: { status: 400, message: "The GraphQL query is too deep, too costly or asks for too large a page." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is too large." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "The content type is not supported." },
  RATE_LIMITED: { status: 429, message: "Too many attempts; try again later.", sqlstate: "TRATE" },
  INTERNAL: { status: 500, message: "An unexpected error occurred." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** An error whose code and message may be shown to a client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  /** Seconds after which a RATE_LIMITED request may be retried. */
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message?: string, extra: { details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {}) {
    super(message ?? ERROR_TABLE[code].message, { cause: extra.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_TABLE[code].status;
    this.details = extra.details;
    this.retryAfter = extra.retryAfter;
  }
}

const codeBySqlstate = new Map<string, ErrorCode>(
  Object.entries(ERROR_TABLE).flatMap(([code, spec]) =>
    "sqlstate" in spec ? [[spec.sqlstate, code as ErrorCode]] : [],
  ),
);

/** Standard PostgreSQL SQLSTATEs that mean a client mistake rather than a server fault. */
const STANDARD_SQLSTATES: ReadonlyArray<[RegExp, ErrorCode]> = [
  [/^23505$/, "CONFLICT"], // unique_violation
  [/^23P01$/, "CONFLICT"], // exclusion_violation
  [/^(23502|23503|23514)$/, "VALIDATION_FAILED"], // not null, foreign key, check
  [/^22/, "VALIDATION_FAILED"], // data exception: bad text representation, out of range…
  [/^42501$/, "FORBIDDEN"], // insufficient_privilege, including RLS WITH CHECK failures
];

interface PgErrorLike {
  code: string;
  message: string;
  detail?: string;
  constraint?: string;
  column?: string;
}

function isPgError(error: unknown): error is PgErrorLike {
  return (
    typeof error === "object" && error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    /^[0-9A-Z]{5}$/.test((error as { code: string }).code)
  );
}

/** Maps anything thrown to an AppError; unknown errors become INTERNAL with a generic message. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const declared = declaredCode(error);
  if (declared) return new AppError(declared.code, declared.message, { details: declared.details, cause: error });
  if (isPgError(error)) {
    const own = codeBySqlstate.get(error.code);
    if (own) {
      // Our SQL writes messages for the client; the detail, when present, is a JSON details object.
      return new AppError(own, error.message, { details: parseDetails(error.detail), cause: error });
    }
    for (const [pattern, code] of STANDARD_SQLSTATES) {
      if (pattern.test(error.code)) {
        const details = error.constraint ? { constraint: error.constraint } : error.column ? { column: error.column } : undefined;
        return new AppError(code, undefined, { details, cause: error });
      }
    }
  }
  if (typeof error === "object" && error !== null && (error as { type?: unknown }).type === "entity.too.large") {
    return new AppError("PAYLOAD_TOO_LARGE", undefined, { cause: error });
  }
  if (typeof error === "object" && error !== null && (error as { type?: unknown }).type === "entity.parse.failed") {
    return new AppError("VALIDATION_FAILED", "The request body is not valid JSON.", { cause: error });
  }
  return new AppError("INTERNAL", undefined, { cause: error });
}

/** Errors raised by our GraphQL plugins (grafast SafeError) carry their code in `extensions`. */
function declaredCode(error: unknown): { code: ErrorCode; message: string; details?: Record<string, unknown> } | undefined {
  if (typeof error !== "object" || error === null || !(error instanceof Error)) return undefined;
  const extensions = (error as { extensions?: { code?: unknown; details?: unknown } }).extensions;
  const code = extensions?.code;
  if (typeof code !== "string" || !(code in ERROR_TABLE)) return undefined;
  const details = typeof extensions?.details === "object" && extensions.details !== null ? (extensions.details as Record<string, unknown>) : undefined;
  return { code: code as ErrorCode, message: error.message, details };
}

function parseDetails(detail: string | undefined): Record<string, unknown> | undefined {
  if (!detail) return undefined;
  try {
    const value: unknown = JSON.parse(detail);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : { detail };
  } catch {
    return undefined;
  }
}

/** The JSON body every REST error answers with. */
export function errorEnvelope(error: AppError): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}
