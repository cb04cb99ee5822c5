// Reads the config schema's structure from zod v4 internals, for the config reference and unknown-key hints.

/** The part of a zod v4 schema that the walk reads. */
interface SchemaNode {
  description?: string;
  def: {
    type: string;
    innerType?: SchemaNode;
    in?: SchemaNode;
    out?: SchemaNode;
    defaultValue?: unknown;
    shape?: Record<string, SchemaNode>;
    element?: SchemaNode;
  };
}

interface Unwrapped {
  /** The schema inside the wrappers: an object, an array, a string, ... */
  inner: SchemaNode;
  /** The outermost schema's `.describe()` text, "" without one. */
  description: string;
  /** A default, optional or prefault wrapper lets the key be left out. */
  optional: boolean;
  /** The value of the innermost default wrapper; undefined without one. */
  defaultValue: unknown;
}

/** Steps through default/optional/prefault/pipe/transform wrappers to the schema inside. */
export function unwrap(schema: unknown): Unwrapped {
  const outer = schema as SchemaNode;
  let inner = outer;
  let optional = false;
  let defaultValue: unknown;
  for (let depth = 0; depth < 10; depth++) {
    const def = inner.def;
    if (def.type === "default") defaultValue = def.defaultValue;
    if (def.type === "default" || def.type === "optional" || def.type === "prefault") optional = true;
    const next = def.innerType ?? (def.type === "pipe" ? schemaSideOf(def) : undefined);
    if (next === undefined) break;
    inner = next;
  }
  return { inner, description: outer.description ?? "", optional, defaultValue };
}

/** A pipe's input schema; for z.preprocess (a transform piped into a schema), the schema it feeds. */
function schemaSideOf(pipe: SchemaNode["def"]): SchemaNode | undefined {
  return pipe.in?.def.type === "transform" ? pipe.out : pipe.in;
}

/** The fields of the object inside the wrappers; {} when the schema is not an object. */
export function objectShape(schema: unknown): Record<string, unknown> {
  const { inner } = unwrap(schema);
  return inner.def.type === "object" ? (inner.def.shape ?? {}) : {};
}

/** The element schema of the array inside the wrappers; undefined when the schema is not an array. */
export function arrayElement(schema: unknown): unknown {
  const { inner } = unwrap(schema);
  return inner.def.type === "array" ? inner.def.element : undefined;
}
