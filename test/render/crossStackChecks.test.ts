// docs/invariants.md #17-#21: the stacks of one project together. Each failing pair names the stack and the key.
import { describe, expect, it } from "vitest";
import { loadFromStackFile } from "../../src/config/fromStackFile";
import {
  crossStackProblems,
  crossStackSummary,
  problemsOf,
  renderStack,
} from "../../src/render/crossStackChecks";
import { productionConfig, stagingConfig } from "./workflows/fixtures";

const ownStacks = () => ["staging", "production"].map((s) => loadFromStackFile(`Pulumi.${s}.yaml`).config);

describe("cross-stack checks", () => {
  it("pass for this repository's own two stacks and for the fixture pair", () => {
    expect(crossStackProblems(ownStacks())).toEqual([]);
    expect(crossStackProblems([stagingConfig(), productionConfig()])).toEqual([]);
    expect(crossStackSummary(ownStacks())).toContain("repository settings owned by: production");
  });

  describe("17. exactly one stack owns repository settings", () => {
    it("none: names every stack, the key and the files nobody commits", () => {
      const problems = crossStackProblems([
        stagingConfig(),
        productionConfig({ ownsRepositorySettings: false }),
      ]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^production, staging: pipeline:ownsRepositorySettings: is false in every stack/,
      );
      expect(problems[0]).toContain(".github/workflows/ci.yml");
      expect(problems[0]).toContain("set it to true in exactly one stack");
    });

    it("two: names both stacks, the key and the objects they would both manage, once", () => {
      const problems = crossStackProblems([
        stagingConfig({ ownsRepositorySettings: true }),
        productionConfig(),
      ]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^production, staging: pipeline:ownsRepositorySettings: is true in each/);
      expect(problems[0]).toContain("file .github/workflows/ci.yml");
    });
  });

  describe("18. every required check of every stack's branch is a job of the one ci.yml", () => {
    it("a job the owning stack turned off: names the stack, the app key and the owner", () => {
      const problems = crossStackProblems([
        stagingConfig(),
        productionConfig({ app: { name: "storefront", testCommand: "" } }),
      ]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^staging: pipeline:app\.testCommand: differs from the owning stack's/);
      expect(problems[0]).toContain(
        "requires the check 'test', but the ci.yml of production has no job 'test'",
      );
      expect(problems[0]).toContain("pull requests into 'staging' can never merge");
    });

    it("holds when the other stack requires fewer checks, or none (protection off)", () => {
      const fewer = stagingConfig({ app: { name: "storefront", lintCommand: "" } });
      expect(crossStackProblems([fewer, productionConfig()])).toEqual([]);
      const off = stagingConfig({ protection: { enabled: false } });
      expect(
        crossStackProblems([off, productionConfig({ app: { name: "storefront", lintCommand: "" } })]),
      ).toEqual([]);
    });

    it("a ci.yml whose jobs no longer match the commands: still names the stack and the key", () => {
      const production = { ...renderStack(productionConfig()), ciChecks: ["build"] };
      const problems = problemsOf([renderStack(stagingConfig()), production]);
      expect(problems).toContain(
        "staging: pipeline:app.lintCommand: branch protection of 'staging' requires the check 'lint', which is not a job of the ci.yml of production (jobs: build), so pull requests into 'staging' can never merge (give staging the same app commands as production, whose ci.yml is the one committed)",
      );
    });
  });

  describe("19. no GitHub object is managed by two stacks", () => {
    it("one environment for two stacks: names both, the key and the shared objects", () => {
      const problems = crossStackProblems([stagingConfig({ environment: "production" }), productionConfig()]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^production, staging: pipeline:environment: is 'production' in each/);
      expect(problems[0]).toContain("environment production");
      expect(problems[0]).toContain("give each stack its own environment");
    });

    it("environment names that differ only in case are one GitHub environment", () => {
      const problems = crossStackProblems([stagingConfig({ environment: "Production" }), productionConfig()]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toBe(
        "production, staging: pipeline:environment: 'production' and 'Production' are one GitHub environment (its names ignore case) (give each stack its own environment)",
      );
    });

    it("one branch for two stacks: names both, the key and the branch rule both would manage", () => {
      const problems = crossStackProblems([stagingConfig({ branch: "main" }), productionConfig()]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^production, staging: pipeline:branch: is 'main' in each/);
      expect(problems[0]).toContain("branch-protection main");
    });

    it("an object managed twice for another reason is reported with the key that decides it", () => {
      const staging = renderStack(stagingConfig());
      const twice = {
        ...staging,
        objects: [
          ...staging.objects,
          { kind: "file" as const, id: ".github/workflows/deploy-production.yml", detail: "" },
        ],
      };
      expect(problemsOf([twice, renderStack(productionConfig())])).toEqual([
        "production, staging: pipeline:environment: both would manage file .github/workflows/deploy-production.yml (no GitHub object may be managed by two stacks: change pipeline:environment in one of them)",
      ]);
    });
  });

  it("20. the same environment secret and variable names in every environment", () => {
    // The names are constants today, so no config makes them differ: the check guards a conditional one.
    const staging = renderStack(stagingConfig());
    const withoutKnownHosts = {
      ...staging,
      objects: staging.objects.filter((o) => o.id !== "staging:DEPLOY_KNOWN_HOSTS"),
    };
    const problems = problemsOf([withoutKnownHosts, renderStack(productionConfig())]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^staging: pipeline:environment: environment 'staging' has no variable DEPLOY_KNOWN_HOSTS, which production declares/,
    );
  });

  describe("21. one repository for every stack", () => {
    it("another repository: names the stack and pipeline:repository, and nothing else", () => {
      expect(crossStackProblems([stagingConfig({ repository: "shop" }), productionConfig()])).toEqual([
        "staging: pipeline:repository: is 'shop', but production (the stack that owns repository settings) uses 'storefront' (use the same github:owner and repository in every stack of a project)",
      ]);
    });

    it("another owner: names the stack and github:owner", () => {
      const problems = crossStackProblems([
        { ...stagingConfig(), githubOwner: "elsewhere" },
        productionConfig(),
      ]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^staging: github:owner: is 'elsewhere', but production/);
    });
  });
});
