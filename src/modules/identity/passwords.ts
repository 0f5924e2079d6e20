/**
 * Password hashing with argon2id from Node's own crypto (no native addon), at OWASP's
 * recommended minimum (19 MiB, 2 passes, 1 lane), stored as a PHC string so parameters can be
 * raised later without breaking old hashes. Policy per ASVS 5.0 V6.2.
 */
import { argon2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { dictionary } from "@zxcvbn-ts/language-common";
import { AppError, SERVICE_UNAVAILABLE_RETRY_AFTER } from "../../platform/errors.ts";

const argon2Run = promisify(argon2);
let argon2Runs = 0;

/**
 * Work of which at most `concurrency` runs at once and at most `maxWaiting` more wait their turn, in
 * the order asked; past that it is refused at once with SERVICE_UNAVAILABLE (503, Retry-After)
 * rather than queued behind a wait no client sits through.
 */
export class WorkGate {
  #running = 0;
  readonly #line: Array<() => void> = [];

  readonly concurrency: number;
  readonly maxWaiting: number;
  readonly #refusal: () => Error;

  constructor(concurrency: number, maxWaiting: number, refusal: () => Error) {
    this.concurrency = concurrency;
    this.maxWaiting = maxWaiting;
    this.#refusal = refusal;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency) this.#running++;
    else if (this.#line.length >= this.maxWaiting) throw this.#refusal();
    else await new Promise<void>((resolve) => this.#line.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes to the next in line, or is given back.
      const next = this.#line.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/**
 * How many argon2 computations may run at once: two threads fewer than libuv's thread pool has
 * (UV_THREADPOOL_SIZE, 4 by default), at least one. Node runs argon2 on that pool, and the same
 * process needs it for everything else slow: the database connections' SCRAM handshake (pg's
 * WebCrypto), file system calls (uploads), DNS lookups, zlib. Without this, a burst of logins
 * queued there held up every new database connection behind it: 200 queued hashes kept one
 * waiting 3.3 s on an idle machine, and beyond the connect timeout on a loaded one, so unrelated
 * requests answered 503. Two computations still keep two cores busy, so logins are no slower.
 */
export const ARGON2_CONCURRENCY = Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 2);

/**
 * How many more may wait: 64 a running slot, about two seconds of work at 30 ms a computation. A
 * burst beyond that (a credential-stuffing run from many addresses, each under its own limits) is
 * answered 503 at once, so the logins in line keep a bounded wait instead of all slowing down.
 */
export const ARGON2_MAX_WAITING = 64 * ARGON2_CONCURRENCY;

/** Every argon2 computation of this process goes through here. */
export const passwordWork = new WorkGate(
  ARGON2_CONCURRENCY,
  ARGON2_MAX_WAITING,
  () =>
    new AppError("SERVICE_UNAVAILABLE", "Too many passwords are being checked right now; try again shortly.", {
      retryAfter: SERVICE_UNAVAILABLE_RETRY_AFTER,
    }),
);

function argon2Async(...args: Parameters<typeof argon2Run>): ReturnType<typeof argon2Run> {
  argon2Runs++;
  return passwordWork.run(() => argon2Run(...args));
}

/**
 * How many argon2 computations (hashes and verifications) this process has asked for, refused ones
 * included: the expensive part of an identity request, to observe what a request costs (tests: no
 * argon2 for a tenant that does not exist; one for an unknown account of an existing tenant).
 */
export function argon2Count(): number {
  return argon2Runs;
}

export const PASSWORD_PARAMS = { memory: 19456, passes: 2, parallelism: 1, tagLength: 32 } as const;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** ~49,000 most common passwords (zxcvbn's list, from real breaches), lower-cased. */
const COMMON_PASSWORDS = new Set((dictionary["passwords-common"] as string[]).map((p) => p.toLowerCase()));

export function checkPasswordPolicy(password: unknown): string {
  if (typeof password !== "string")
    throw new AppError("VALIDATION_FAILED", "A password is required.", { details: { field: "password" } });
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH)
    throw new AppError("WEAK_PASSWORD", `The password must have at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (length > PASSWORD_MAX_LENGTH)
    throw new AppError("WEAK_PASSWORD", `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`);
  if (COMMON_PASSWORDS.has(password.toLowerCase()))
    throw new AppError("WEAK_PASSWORD", "This password is too common; choose another.");
  return password;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await argon2Async("argon2id", { message: password, nonce: salt, ...PASSWORD_PARAMS });
  const { memory, passes, parallelism } = PASSWORD_PARAMS;
  const encoded = `${salt.toString("base64url")}$${hash.toString("base64url")}`;
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${encoded}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/;

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const match = stored ? PHC.exec(stored) : null;
  if (!match) {
    // Spend the same time as a real check, so unknown accounts cannot be told apart by timing.
    await hashPassword(password);
    return false;
  }
  const [, memory, passes, parallelism, salt, expected] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const expectedBytes = Buffer.from(expected, "base64url");
  const actual = await argon2Async("argon2id", {
    message: password,
    nonce: Buffer.from(salt, "base64url"),
    memory: Number(memory),
    passes: Number(passes),
    parallelism: Number(parallelism),
    tagLength: expectedBytes.length,
  });
  return timingSafeEqual(actual, expectedBytes);
}
