// The committed Pulumi.yaml against the rules Pulumi applies to a project file: its JSON schema for the fields
// this project uses (runtime, options, config declarations), and how the CLI reads config declarations.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";

const SIMPLE_TYPE = z.enum(["string", "integer", "boolean", "array"]);
type ItemsType = { type: z.infer<typeof SIMPLE_TYPE> | ItemsType; items?: ItemsType };
const ITEMS_TYPE: z.ZodType<ItemsType> = z.lazy(() =>
  z.object({ type: z.union([SIMPLE_TYPE, ITEMS_TYPE]), items: ITEMS_TYPE.optional() }),
);

const DECLARATION = z
  .strictObject({
    type: SIMPLE_TYPE.optional(),
    items: ITEMS_TYPE.optional(),
    description: z.string().optional(),
    secret: z.boolean().optional(),
    default: z.unknown().optional(),
    value: z.unknown().optional(),
  })
  .refine((d) => d.type !== "array" || d.items !== undefined, { message: "an array declaration needs items" })
  .refine((d) => !(d.secret === true && "default" in d), {
    message: "Pulumi refuses a plain default for a secret",
  });

const PROJECT_FILE = z.looseObject({
  name: z.string().min(1),
  description: z.string().nullable().optional(),
  runtime: z.union([
    z.string().min(1),
    z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
  ]),
  main: z.string().nullable().optional(),
  options: z
    .strictObject({ refresh: z.literal("always").optional() })
    .nullable()
    .optional(),
  config: z
    .record(
      z.string(),
      z.union([z.string(), z.number().int(), z.boolean(), z.array(z.unknown()), DECLARATION]),
    )
    .nullable()
    .optional(),
});

const project = parse(readFileSync("Pulumi.yaml", "utf8")) as unknown;

describe("Pulumi.yaml", () => {
  it("is a valid Pulumi project file", () => {
    const result = PROJECT_FILE.safeParse(project);
    expect(result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual(
      [],
    );
  });

  it("refreshes state before every operation, so files changed on GitHub are overwritten, not a 409", () => {
    expect(PROJECT_FILE.parse(project).options?.refresh).toBe("always");
  });

  it("declares only keys of its own namespace (schema attributes are refused on provider keys)", () => {
    const keys = Object.keys(PROJECT_FILE.parse(project).config ?? {});
    expect(keys.filter((key) => key.includes(":"))).toEqual([]);
  });

  it("the schema rules catch what Pulumi refuses", () => {
    const refused = [
      { name: "p", runtime: "nodejs", options: { refresh: "never" } },
      { name: "p", runtime: "nodejs", config: { k: { type: "object" } } },
      { name: "p", runtime: "nodejs", config: { k: { type: "array" } } },
      { name: "p", runtime: "nodejs", config: { k: { type: "string", secret: true, default: "" } } },
      { name: "p", runtime: "nodejs", config: { k: { description: "x", required: true } } },
      { name: "", runtime: "nodejs" },
    ];
    for (const file of refused)
      expect(PROJECT_FILE.safeParse(file).success, JSON.stringify(file)).toBe(false);
  });
});
