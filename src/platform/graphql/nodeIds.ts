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
        const decode = codec.decode;
        codec.decode = build.grafast.markSyncAndSafe(function decodeFlatNodeId(value: string) {
          const decoded: unknown = decode(value);
          if (!isFlatIdentifier(decoded)) throw new Error("Not a node id of this API.");
          return decoded;
        });
        return _;
      },
    },
  },
};
