import { describe, expect, it } from "vitest";
import { answeringBuild } from "../../bench/answer";

describe("answeringBuild (which release answered)", () => {
  it("is the build label of a 200 answer's JSON body", () => {
    expect(answeringBuild(200, '{"build":"20261206-abc","pid":7}\n')).toBe("20261206-abc");
  });

  it("is null for another status, a body that is not JSON, or one without a string label", () => {
    expect(answeringBuild(503, '{"build":"x"}')).toBeNull();
    expect(answeringBuild(undefined, '{"build":"x"}')).toBeNull();
    expect(answeringBuild(200, "unhealthy\n")).toBeNull();
    expect(answeringBuild(200, '{"bytes":1024}')).toBeNull();
    expect(answeringBuild(200, '{"build":7}')).toBeNull();
    expect(answeringBuild(200, "null")).toBeNull();
  });
});
