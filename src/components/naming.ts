/** Child resource names derived from the parent's, so two stacks or hosts never collide. */
export function childName(parent: string, ...parts: Array<string | number>): string {
  return [parent, ...parts].join("-").replace(/[^A-Za-z0-9_.-]/g, "-");
}
