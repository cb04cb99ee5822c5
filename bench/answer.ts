// Which release an answer of the example app came from: GET / answers JSON with the `build` label its artifact was
// built with (buildArtifact's label: the release id in the benchmark).

/** The `build` field of a 200 answer's JSON body; null for any other status, a body that is not JSON, or no label. */
export function answeringBuild(status: number | undefined, body: string): string | null {
  if (status !== 200) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    const build = typeof parsed === "object" && parsed !== null && "build" in parsed ? parsed.build : null;
    return typeof build === "string" ? build : null;
  } catch {
    return null;
  }
}
