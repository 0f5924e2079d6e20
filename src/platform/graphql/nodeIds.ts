/**
 * A node id is base64 of a JSON array: the type's name, then its primary key's values, each a
 * string or a number (`["Product", "0b1f…"]`). PostGraphile's codec decodes any JSON, and hands a
 * nested value on to the key's codec, which stringifies it recursively: an id nesting 5,000 arrays
 * overflowed the stack at execution and answered INTERNAL. An id of any other shape now fails to
 * decode, as an id that is not base64 JSON does: `node`, the `…ById` fields and the mutations by
 * id answer null.
 */
import type {} from "postgraphile";

/** What a node id of ours decodes to: no nesting, so no value deeper than the array itself. */
function isFlatIdentifier(value: unknown): boolean {
  if (!Array.isArray(value) || value.length < 2 || typeof value[0] !== "string") return false;
  for (let i = 1; i < value.length; i++) {
    const part: unknown = value[i];
    if (typeof part !== "string" && typeof part !== "number") return false;
  }
  return true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER_RANGES: Record<string, bigint> = { int2: 2n ** 15n, int4: 2n ** 31n, int8: 2n ** 63n };

/**
 * Whether a key's value in a node id is one of the key column's type (by its codec's name): a
 * value PostgreSQL would refuse to cast — "x" for a uuid, 1.5 for an integer — names no row, and
 * answers null as one of a row that does not exist, not the cast's error. Other types pass.
 */
function fitsKey(part: string | number, codecName: string): boolean {
  if (codecName === "uuid") return typeof part === "string" && UUID.test(part);
  const range = INTEGER_RANGES[codecName];
  if (range !== undefined) {
    const text = String(part);
    if (!/^-?\d{1,19}$/.test(text)) return false;
    const n = BigInt(text);
    return n >= -range && n < range;
  }
  if (codecName === "text" || codecName === "citext" || codecName === "varchar") return typeof part === "string";
  return true;
}

/** Each table type's primary key column types, in key order, by the GraphQL type's name. */
function primaryKeyCodecs(build: GraphileBuild.Build): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const resource of Object.values(build.input.pgRegistry.pgResources)) {
    const primary = resource.uniques?.find((unique) => unique.isPrimary);
    const attributes = resource.codec.attributes as Record<string, { codec: { name: string } }> | undefined;
    if (resource.parameters || !primary || !attributes) continue;
    const typeName = build.inflection.tableType(resource.codec);
    keys.set(
      typeName,
      primary.attributes.map((name) => attributes[name]?.codec.name ?? "unknown"),
    );
  }
  return keys;
}

export const NodeIdShapePlugin: GraphileConfig.Plugin = {
  name: "TesseraNodeIdShape",
  version: "1.0.0",
  after: ["NodeIdCodecBase64JSONPlugin"],
  schema: {
    hooks: {
      init(_, build) {
        // Absent only when the Node interface is switched off: there are no node ids to decode then.
        const codec = build.getNodeIdCodec?.("base64JSON");
        if (!codec) return _;
        const keys = primaryKeyCodecs(build);
        const decode = codec.decode;
        codec.decode = build.grafast.markSyncAndSafe(function decodeFlatNodeId(value: string) {
          const decoded: unknown = decode(value);
          if (!isFlatIdentifier(decoded)) throw new Error("Not a node id of this API.");
          const [typeName, ...parts] = decoded as [string, ...Array<string | number>];
          const types = keys.get(typeName);
          if (types && (types.length !== parts.length || parts.some((part, i) => !fitsKey(part, types[i]!))))
            throw new Error("Not a node id of this API.");
          return decoded;
        });
        return _;
      },
    },
  },
};
