/**
 * `Datetime` accepts RFC 3339 timestamps only. PostgreSQL's own timestamptz input also takes
 * 'now', 'tomorrow', 'epoch' and 'infinity'; none of them is a point in time a client means to
 * send, and 'infinity' breaks every later read of the row.
 */
import { GraphQLError, Kind, type ValueNode } from "postgraphile/graphql";

/** 2026-11-23T10:00:00Z, 2026-11-23 10:00:00.123+03:00 — date, time and an explicit offset. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The value unchanged if it is an RFC 3339 timestamp of a real calendar day; throws otherwise. */
export function assertRfc3339(value: unknown): string {
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
    if (
      year >= 1 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysIn(year, month) &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 60
    ) {
      return value as string;
    }
  }
  throw new GraphQLError("Datetime must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T10:00:00Z.");
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
