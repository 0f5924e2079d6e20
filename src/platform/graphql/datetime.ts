/**
 * `Datetime` accepts RFC 3339 timestamps only. PostgreSQL's own timestamptz input also takes
 * 'now', 'tomorrow', 'epoch' and 'infinity'; none of them is a point in time a client means to
 * send, and 'infinity' breaks every later read of the row. The instant, once its offset is applied
 * and it is rounded to PostgreSQL's microseconds, lies in years 1–9999: `0001-01-01T00:00:00+14:00`
 * is a time of 1 BC, which would come back as a date in year 1, and a time that rounds into year
 * 10000 would come back in a form this type refuses. A leap second (`23:59:60`) is refused too:
 * PostgreSQL has none and would store the next minute.
 */
import { GraphQLError, Kind, type ValueNode } from "postgraphile/graphql";

/** 2026-11-23T10:00:00Z, 2026-11-23 10:00:00.123+03:00 — date, time and an explicit offset. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Microseconds since 1970 of a UTC date and time, for any year 1–9999 (Date.UTC maps 0–99 to 19xx);
 * a bigint, as year 9999 in microseconds is past Number's exact integers.
 */
function utcMicros(year: number, month: number, day: number, hour: number, minute: number, second: number): bigint {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return BigInt(date.getTime()) * 1000n;
}

const EARLIEST = utcMicros(1, 1, 1, 0, 0, 0);
const LATEST = utcMicros(9999, 12, 31, 23, 59, 59) + 999_999n;

/** Minutes east of UTC of a matched offset; undefined past PostgreSQL's ±15:59. */
function offsetMinutes(zone: string): number | undefined {
  if (zone === "Z" || zone === "z") return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 15 || minutes > 59) return undefined;
  return (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
}

/** What is wrong with a value as a `Datetime`, or undefined when it is an RFC 3339 timestamp it takes. */
export function datetimeProblem(value: unknown): string | undefined {
  const match = typeof value === "string" ? RFC3339.exec(value) : null;
  if (match) {
    const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const offset = offsetMinutes(match[8]!);
    if (
      year >= 1 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysIn(year, month) &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 59 &&
      offset !== undefined
    ) {
      // The instant in microseconds, the fraction rounded as PostgreSQL rounds it.
      const nanos = Number((match[7] ?? ".").slice(1).padEnd(9, "0"));
      const instant =
        utcMicros(year, month, day, hour, minute, second) +
        BigInt(Math.round(nanos / 1000)) -
        BigInt(offset) * 60_000_000n;
      if (instant < EARLIEST || instant > LATEST)
        return "Datetime must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.";
      return undefined;
    }
  }
  return "Datetime must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T10:00:00Z.";
}

/** The value unchanged if it is an RFC 3339 timestamp `Datetime` takes; throws what is wrong otherwise. */
function assertRfc3339(value: unknown): string {
  const problem = datetimeProblem(value);
  if (problem !== undefined) throw new GraphQLError(problem);
  return value as string;
}

export const StrictDatetimePlugin: GraphileConfig.Plugin = {
  name: "TesseraStrictDatetime",
  version: "0.1.0",
  schema: {
    hooks: {
      GraphQLScalarType(config) {
        if (config.name !== "Datetime") return config;
        const { parseValue, parseLiteral } = config;
        return {
          ...config,
          parseValue: (value: unknown) => (parseValue ? parseValue(assertRfc3339(value)) : assertRfc3339(value)),
          parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) => {
            if (ast.kind !== Kind.STRING) throw new GraphQLError("Datetime must be a string.");
            assertRfc3339(ast.value);
            return parseLiteral ? parseLiteral(ast, variables) : ast.value;
          },
        };
      },
    },
  },
};
