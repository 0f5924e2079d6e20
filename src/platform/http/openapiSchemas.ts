/**
 * zod → JSON Schema draft 2020-12 (the dialect of OpenAPI 3.1), with zod's native `z.toJSONSchema`.
 * Requests are documented as their input (what a client sends), answers as their output with
 * closed objects (what the server sends: no field beyond the schema's). Schemas named with
 * `.meta({ id: "Product" })` become `components.schemas.Product` in answers and `ProductInput` in
 * requests (the two differ: defaults, closed objects), shared by every operation. A recursive
 * schema without a name gets one from its operation (`listCategoriesSchema0`): name it instead.
 */
import { z } from "zod";

export type JsonSchema = Record<string, unknown>;

export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  /**
   * The JSON Schema of `schema`, its named parts moved to the components. `owner` (the operation's
   * id) names the parts zod could only number.
   */
  convert(schema: z.ZodType, io: "input" | "output", owner: string): JsonSchema {
    const json = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    const suffix = io === "input" ? "Input" : "";
    const rootName = `${owner}Schema${suffix}`;
    const names: Record<string, string> = { "#": rootName };
    for (const name of Object.keys(defs))
      names[`#/$defs/${name}`] = name.startsWith("__")
        ? `${owner}${capitalized(name.slice(2))}${suffix}`
        : `${name}${suffix}`;
    for (const [name, def] of Object.entries(defs))
      this.add(names[`#/$defs/${name}`]!, rewriteRefs(def, names) as JsonSchema, owner);
    const rewritten = rewriteRefs(json, names) as JsonSchema;
    if (!JSON.stringify(json).includes('"$ref":"#"')) return rewritten;
    // The root refers to itself: it becomes a component too.
    this.add(rootName, rewritten, owner);
    return { $ref: `#/components/schemas/${rootName}` };
  }

  add(name: string, schema: JsonSchema, owner: string): void {
    const existing = this.schemas[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema))
      throw new Error(`${owner}: two different schemas are named ${name} (.meta({ id })); rename one`);
    this.schemas[name] = schema;
  }
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** zod's local references (`#/$defs/X`, `#`) → the components they became. */
function rewriteRefs(value: unknown, names: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, names));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "$ref" && typeof item === "string") {
      const name = names[item];
      if (!name) throw new Error(`unexpected reference ${item} in a converted schema`);
      out[key] = `#/components/schemas/${name}`;
    } else out[key] = rewriteRefs(item, names);
  }
  return out;
}
