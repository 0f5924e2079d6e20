/**
 * The one error-code table: the platform's codes here, each module's own codes added by its
 * manifest (`registerErrors`). SQL raises errors with the SQLSTATEs listed; GraphQL and REST both
 * map every error through `toAppError`, so a code means the same on every transport.
 */

export interface ErrorSpec {
  /** HTTP status for REST, and for GraphQL requests that fail as a whole. */
  status: number;
  /** Default message safe to show to a client. */
  message: string;
  /** The custom SQLSTATE our SQL functions raise for this code, if any. */
  sqlstate?: string;
}

const PLATFORM_ERRORS = {
  VALIDATION_FAILED: { status: 400, message: "The input is not valid.", sqlstate: "TVALD" },
  UNAUTHENTICATED: {
    status: 401,
    message: "Authentication is required or the access token is not valid.",
    sqlstate: "TAUTH",
  },
  INVALID_SIGNATURE: { status: 401, message: "The signature is not valid.", sqlstate: "TSIGN" },
  FORBIDDEN: { status: 403, message: "You are not allowed to do this.", sqlstate: "TFORB" },
  NOT_FOUND: { status: 404, message: "Not found.", sqlstate: "TNFND" },
  CONFLICT: { status: 409, message: "The change conflicts with existing data.", sqlstate: "TCONF" },
  QUERY_TOO_COMPLEX: {
    status: 400,
    message: "The GraphQL query is too deep, too costly or asks for too large a page.",
  },
  METHOD_NOT_ALLOWED: { status: 405, message: "This method is not allowed here." },
  NOT_ACCEPTABLE: { status: 406, message: "The Accept header names no media type the server answers in." },
  REQUEST_TIMEOUT: { status: 408, message: "The request did not arrive in time." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is too large." },
  EXPECTATION_FAILED: { status: 417, message: "The Expect header names an expectation the server cannot meet." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "The content type is not supported." },
  RATE_LIMITED: { status: 429, message: "Too many attempts; try again later.", sqlstate: "TRATE" },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: "The request's headers are too large (16 kB in all) or too many (1,000 fields).",
  },
  INTERNAL: { status: 500, message: "An unexpected error occurred." },
  SERVICE_UNAVAILABLE: { status: 503, message: "The service is temporarily unavailable; try again shortly." },
  DATABASE_UNREACHABLE: { status: 503, message: "The database cannot be reached with the configured URL." },
  MIGRATION_FAILED: { status: 500, message: "The database could not be brought to this code's schema." },
} as const satisfies Record<string, ErrorSpec>;

/**
 * The codes modules add. A module declares its codes for the type checker by merging into this
 * interface (`declare module ".../platform/errors.ts" { interface ModuleErrorCodes { X: true } }`)
 * and for the runtime through its manifest's `errors`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface ModuleErrorCodes {}

export type ErrorCode = keyof typeof PLATFORM_ERRORS | keyof ModuleErrorCodes;

const table = new Map<string, ErrorSpec>();
const codeBySqlstate = new Map<string, ErrorCode>();

/** Adds a module's codes to the table; a code or SQLSTATE already taken by another spec is refused. */
export function registerErrors(errors: Record<string, ErrorSpec>): void {
  for (const [code, spec] of Object.entries(errors)) {
    const existing = table.get(code);
    if (existing && existing !== spec) throw new Error(`error code ${code} is declared twice`);
    const holder = spec.sqlstate ? codeBySqlstate.get(spec.sqlstate) : undefined;
    if (holder && holder !== code) throw new Error(`SQLSTATE ${spec.sqlstate} is taken by ${holder}`);
    table.set(code, spec);
    if (spec.sqlstate) codeBySqlstate.set(spec.sqlstate, code as ErrorCode);
  }
}

registerErrors(PLATFORM_ERRORS);

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && table.has(code);
}

/** An error whose code and message may be shown to a client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  /** Seconds after which a RATE_LIMITED request may be retried. */
  readonly retryAfter?: number;

  constructor(
    code: ErrorCode,
    message?: string,
    extra: { details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {},
  ) {
    const spec = table.get(code);
    super(message ?? spec?.message ?? "An unexpected error occurred.", { cause: extra.cause });
    this.name = "AppError";
    this.code = code;
    this.status = spec?.status ?? 500;
    this.details = extra.details;
    this.retryAfter = extra.retryAfter;
  }
}

/** A negative `first` / `last`: refused before any SQL (graphql/pageSize.ts), and by PostgreSQL (2201W). */
export const NEGATIVE_PAGE_SIZE = "A page size (first, last) must not be negative.";

/** Standard PostgreSQL SQLSTATEs that mean a client mistake rather than a server fault. */
const STANDARD_SQLSTATES: ReadonlyArray<[RegExp, ErrorCode, message?: string]> = [
  // character_not_in_repertoire: PostgreSQL's text cannot hold U+0000 (other invalid text is
  // refused as NOT_UNICODE before it reaches SQL); untranslatable_character (22P05): nor can jsonb,
  // as a value or a key, escaped (`"\u0000"`).
  [/^(22021|22P05)$/, "VALIDATION_FAILED", "Text must not contain the NUL character (U+0000)."],
  [/^23505$/, "CONFLICT"], // unique_violation
  [/^23P01$/, "CONFLICT"], // exclusion_violation
  [/^(23502|23503|23514)$/, "VALIDATION_FAILED"], // not null, foreign key, check
  // A negative page size or offset reaches LIMIT / OFFSET (GraphQL's first, last and offset).
  [/^2201W$/, "VALIDATION_FAILED", NEGATIVE_PAGE_SIZE],
  [/^2201X$/, "VALIDATION_FAILED", "An offset must not be negative."],
  // invalid_text_representation: a value cast to a type it is not of (an id that is no UUID…).
  [
    /^22P02$/,
    "VALIDATION_FAILED",
    "A value is not of the type it is used as: an id, a number, a date or a cursor of another form.",
  ],
  // numeric_value_out_of_range: a number past its column's type (a price of 1e30 in numeric(18,2)).
  [
    /^22003$/,
    "VALIDATION_FAILED",
    "A number is out of the range its field holds " +
      "(an amount has at most 16 digits before the point, an id at most 19).",
  ],
  [/^22/, "VALIDATION_FAILED"], // data exception: datetime out of range…
  [/^42501$/, "FORBIDDEN"], // insufficient_privilege, including RLS WITH CHECK failures
  [/^54/, "VALIDATION_FAILED"], // program limit exceeded (stack depth, too many arguments…): the input is too big
];

/** Seconds a client should wait before retrying after SERVICE_UNAVAILABLE. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER = 5;

/** Socket-level failures reaching the database (node's `code`), and pg-pool's own messages. */
// A query written to a connection whose socket was destroyed a moment earlier (before the pool
// heard of it) fails with a stream error or "Client was closed"; that is the same outage.
const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
]);
const CONNECTION_ERROR_MESSAGES = new RegExp(
  `^(${[
    "Connection terminated",
    "timeout exceeded when trying to connect",
    // pg's own connect timeout (DATABASE_CONNECT_TIMEOUT_SECONDS): the server did not answer in time.
    "timeout expired$",
    "Client has encountered a connection error",
    "Cannot use a pool after calling end",
    "Client was closed and is not queryable",
  ].join("|")})`,
);

/** True for errors that mean "the database cannot be reached right now", not "this input is wrong". */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  // SQLSTATE class 08 (connection exception), 57P01-03 (shutting down, crashed, starting),
  // 53300 (too many connections).
  if (typeof code === "string" && (CONNECTION_ERROR_CODES.has(code) || /^(08...|57P0[123]|53300)$/.test(code)))
    return true;
  if (typeof message === "string" && CONNECTION_ERROR_MESSAGES.test(message)) return true;
  // net.connect to several addresses fails with an AggregateError of the individual failures.
  return Array.isArray(errors) && errors.length > 0 && errors.every(isConnectionError);
}

/** PAYLOAD_TOO_LARGE naming the limit: a declared Content-Length over it, or a body read past it. */
export function payloadTooLarge(limit: number, cause?: unknown): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `The request body is over ${limit} bytes.`, { cause });
}

/** Client mistakes detected by HTTP middleware (body parsers, the router) carry a 4xx `status`. */
const CODE_BY_HTTP_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** Safe messages for the body-parser and router error types we know. */
const MESSAGE_BY_TYPE: Readonly<Record<string, string>> = {
  "entity.parse.failed": "The request body is not valid JSON.",
  "charset.unsupported": "The request body's charset is not supported.",
  "encoding.unsupported": "The request body's Content-Encoding is not supported.",
  "request.aborted": "The request body was not received completely.",
  "request.size.invalid": "The request body does not match its Content-Length.",
  "stream.encoding.set": "The request body could not be read.",
};

/** zlib's errors (gzip, deflate: `Z_DATA_ERROR`…), brotli's (`ERR_…`) and zstd's (`ZSTD_error_…`). */
function isDecompressionError(error: object): boolean {
  const { code } = error as { code?: unknown };
  return typeof code === "string" && /^(Z_|ERR__ERROR_|ZSTD_error_)/.test(code);
}

function httpClientError(error: unknown): AppError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status, statusCode, type } = error as { status?: unknown; statusCode?: unknown; type?: unknown };
  const httpStatus = typeof status === "number" ? status : typeof statusCode === "number" ? statusCode : undefined;
  if (httpStatus === undefined || httpStatus < 400 || httpStatus >= 500) return undefined;
  // body-parser answers a form body of more parts than it parses (its parameterLimit, 1,000 in
  // src/platform/server.ts) with 413, as if it were too large: a small body of many `&`s is a
  // malformed request, not a large one.
  if (type === "parameters.too.many") {
    return new AppError("VALIDATION_FAILED", "The form body has more than 1,000 parameters.", {
      cause: error,
      details: { reason: "TOO_MANY_PARAMETERS" },
    });
  }
  // The size a chunked body went past: the same words as a Content-Length over it.
  const { limit } = error as { limit?: unknown };
  if (type === "entity.too.large" && typeof limit === "number") return payloadTooLarge(limit, error);
  const code = CODE_BY_HTTP_STATUS[httpStatus] ?? "VALIDATION_FAILED";
  const message =
    (typeof type === "string" ? MESSAGE_BY_TYPE[type] : undefined) ??
    (error instanceof URIError ? "The request path is not valid percent-encoding." : undefined) ??
    (isDecompressionError(error)
      ? "The request body could not be decompressed: its bytes are not what its Content-Encoding says."
      : undefined) ??
    (code === "VALIDATION_FAILED" ? "The request is not valid." : undefined);
  return new AppError(code, message, { cause: error });
}

interface PgErrorLike {
  code: string;
  message: string;
  detail?: string;
  constraint?: string;
  column?: string;
  table?: string;
}

function isPgError(error: unknown): error is PgErrorLike {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    /^[0-9A-Z]{5}$/.test((error as { code: string }).code)
  );
}

const TRANSACTION_CONFLICT_MESSAGE =
  "The change collided with a concurrent one and was undone, nothing of it kept; send it again.";

/**
 * PostgreSQL aborted the transaction for another one: a deadlock's victim (40P01) or a serialization
 * failure (40001). Nothing of it was kept, and the same request sent again can succeed.
 */
export function isTransactionConflict(error: unknown): boolean {
  return isPgError(error) && (error.code === "40P01" || error.code === "40001");
}

/**
 * A statement prepared on a connection before the schema under it was replaced (a restore with
 * `--clean`, a type dropped and made again): PostgreSQL refuses it on that connection for as long as
 * the connection lives (0A000, "cached plan must not change result type"). The connection is to be
 * discarded; the same request on a fresh one runs.
 */
export function isStalePlan(error: unknown): boolean {
  return (
    isPgError(error) && error.code === "0A000" && error.message.includes("cached plan must not change result type")
  );
}

/** Maps anything thrown to an AppError; unknown errors become INTERNAL with a generic message. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const declared = declaredCode(error);
  if (declared) return new AppError(declared.code, declared.message, { details: declared.details, cause: error });
  if (isConnectionError(error)) {
    return new AppError("SERVICE_UNAVAILABLE", undefined, {
      cause: error,
      retryAfter: SERVICE_UNAVAILABLE_RETRY_AFTER,
    });
  }
  if (isPgError(error)) {
    const own = codeBySqlstate.get(error.code);
    if (own) {
      // Our SQL writes messages for the client; the detail, when present, is a JSON details object.
      return new AppError(own, error.message, { details: parseDetails(error.detail), cause: error });
    }
    if (error.code === "57014") {
      // query_canceled: the request's statement_timeout (STATEMENT_TIMEOUT_MS) cut it short.
      return new AppError("QUERY_TOO_COMPLEX", "The request ran longer than the server allows; ask for less.", {
        details: { reason: "STATEMENT_TIMEOUT" },
        cause: error,
      });
    }
    if (isStalePlan(error)) {
      return new AppError(
        "SERVICE_UNAVAILABLE",
        "The database's schema changed under the connection this request used; send it again.",
        { cause: error, retryAfter: 1, details: { reason: "SCHEMA_CHANGED" } },
      );
    }
    if (isTransactionConflict(error)) {
      return new AppError("CONFLICT", TRANSACTION_CONFLICT_MESSAGE, {
        details: { reason: "CONCURRENT_TRANSACTION" },
        cause: error,
      });
    }
    if (error.code === "23514") {
      const checked = checkedField(error);
      if (checked)
        return new AppError("VALIDATION_FAILED", checked.message, { details: checked.details, cause: error });
    }
    for (const [pattern, code, message] of STANDARD_SQLSTATES) {
      if (pattern.test(error.code)) {
        const details = error.constraint
          ? { constraint: error.constraint }
          : error.column
            ? { field: camelCase(error.column), column: error.column }
            : undefined;
        return new AppError(code, message, { details, cause: error });
      }
    }
  }
  return httpClientError(error) ?? new AppError("INTERNAL", undefined, { cause: error });
}

/**
 * The field a check constraint on one column guards, read from its name: PostgreSQL names a column's
 * own check `<table>_<column>_check`; ours are that text shows something `<table>_<column>_visible`
 * and that a name is one line `<table>_<column>_one_line`.
 * The field is the column as the API spells it (camelCase).
 */
function checkedField(
  error: PgErrorLike,
): { message: string; details: { field: string; constraint: string; reason?: string } } | undefined {
  const { table, constraint } = error;
  if (!table || !constraint?.startsWith(`${table}_`)) return undefined;
  const match = /^([a-z][a-z0-9_]*?)_(check|visible|one_line)$/.exec(constraint.slice(table.length + 1));
  if (!match) return undefined;
  const field = camelCase(match[1]!);
  switch (match[2]) {
    case "visible":
      return { message: `${field} must contain visible text.`, details: { field, reason: "BLANK", constraint } };
    case "one_line":
      return {
        message: `${field} must be one line of text, without control characters.`,
        details: { field, reason: "CONTROL_CHARACTER", constraint },
      };
    default:
      return { message: `The value of ${field} is not valid.`, details: { field, constraint } };
  }
}

/** A column as the API spells it: `max_participants_count` → `maxParticipantsCount`. */
function camelCase(column: string): string {
  return column.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Errors raised by our GraphQL plugins (grafast SafeError) carry their code in `extensions`. */
function declaredCode(
  error: unknown,
): { code: ErrorCode; message: string; details?: Record<string, unknown> } | undefined {
  if (typeof error !== "object" || error === null || !(error instanceof Error)) return undefined;
  const extensions = (error as { extensions?: { code?: unknown; details?: unknown } }).extensions;
  const code = extensions?.code;
  if (!isErrorCode(code)) return undefined;
  const details =
    typeof extensions?.details === "object" && extensions.details !== null
      ? (extensions.details as Record<string, unknown>)
      : undefined;
  return { code, message: error.message, details };
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
export function errorEnvelope(error: AppError): {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
} {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}
