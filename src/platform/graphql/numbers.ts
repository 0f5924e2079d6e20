/**
 * `BigFloat` and `BigInt` accept numbers written in decimal. Both reach PostgreSQL as text, and its
 * numeric and bigint input also reads `0x10`, `0o17`, `0b11`, `1_000`, padding spaces and (numeric)
 * `NaN` and `Infinity`: a price of `"0x10"` was stored as 16.00. What a client sends is now what it
 * wrote: an optional sign, digits, for BigFloat a fraction and an exponent of at most 4 digits.
 */
import { GraphQLError, Kind, type ValueNode } from "postgraphile/graphql";

const FORMATS: Record<string, { pattern: RegExp; message: string }> = {
  BigFloat: {
    pattern: /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?$/,
    message: "BigFloat must be a decimal number, e.g. 12.50.",
  },
  BigInt: { pattern: /^[+-]?[0-9]+$/, message: "BigInt must be a whole number in decimal digits." },
};

function assertDecimal(name: string, value: unknown): void {
  const format = FORMATS[name]!;
  const written = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof written !== "string" || !format.pattern.test(written)) throw new GraphQLError(format.message);
}

export const StrictNumbersPlugin: GraphileConfig.Plugin = {
  name: "TesseraStrictNumbers",
  version: "0.1.0",
  schema: {
    hooks: {
      GraphQLScalarType(config) {
        const { name, parseValue, parseLiteral } = config;
        if (!(name in FORMATS)) return config;
        return {
          ...config,
          parseValue: (value: unknown) => {
            assertDecimal(name, value);
            return parseValue ? parseValue(value) : value;
          },
          parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) => {
            if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT) {
              // A number written unquoted in the document is read as the text it is, as a quoted
              // one or a variable's JSON number is (PostGraphile's own reader takes strings only).
              assertDecimal(name, ast.value);
              return parseValue ? parseValue(ast.value) : ast.value;
            }
            if (ast.kind === Kind.STRING) assertDecimal(name, ast.value);
            return parseLiteral ? parseLiteral(ast, variables) : undefined;
          },
        };
      },
    },
  },
};
