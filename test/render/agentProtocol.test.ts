import { describe, expect, it } from "vitest";
import {
  AGENT_EXIT,
  AGENT_VERBS,
  AGENT_VERB_NAMES,
  agentCall,
  verbUsage,
} from "../../src/render/agentProtocol";

describe("verbUsage", () => {
  it("renders each verb's arguments from the contract", () => {
    expect(AGENT_VERB_NAMES.map(verbUsage)).toEqual([
      "deploy <release-id> [--maintenance] [--backup-taken] [--actor <login>]",
      "rollback [<release-id>] [--actor <login>]",
      "releases",
      "status",
      "health",
      "migrate [--maintenance] [--backup-taken] [--actor <login>]",
      "migrate-rollback [--maintenance] [--backup-taken] [--actor <login>]",
      "migrate-status",
      "maintenance <on|off|status> [--actor <login>]",
      "backup [<backup-id>] [--actor <login>]",
      "backups",
      "restore <backup-id> [--confirm] [--stdin] [--actor <login>]",
    ]);
  });
});

describe("agentCall", () => {
  it("builds the words of a call the agent accepts", () => {
    expect(agentCall("deploy", { argument: '"$RELEASE_ID"', actor: '"$ACTOR"' })).toBe(
      'deploy "$RELEASE_ID" --actor "$ACTOR"',
    );
    expect(agentCall("migrate", { switches: ["--maintenance"], actor: '"$ACTOR"' })).toBe(
      'migrate --maintenance --actor "$ACTOR"',
    );
    expect(agentCall("maintenance", { argument: "on", actor: '"$ACTOR"' })).toBe(
      'maintenance on --actor "$ACTOR"',
    );
    expect(agentCall("rollback", { actor: '"$ACTOR"' })).toBe('rollback --actor "$ACTOR"');
    expect(agentCall("releases")).toBe("releases");
  });

  it("passes --actor only to verbs that take it", () => {
    expect(agentCall("migrate", { actor: '"$ACTOR"' })).toBe('migrate --actor "$ACTOR"');
    expect(agentCall("migrate-status", { actor: '"$ACTOR"' })).toBe("migrate-status");
  });

  it("refuses a call the agent would refuse", () => {
    expect(() => agentCall("deploy")).toThrow(/deploy needs a release id/);
    expect(() => agentCall("maintenance")).toThrow(/maintenance needs on, off or status/);
    expect(() => agentCall("status", { argument: "x" })).toThrow(/status takes no argument/);
    expect(() => agentCall("rollback", { switches: ["--maintenance"] })).toThrow(
      /rollback takes no --maintenance/,
    );
  });
});

describe("the contract", () => {
  it("gives every verb ok, usage and internal, and only exit codes that exist", () => {
    for (const verb of Object.values(AGENT_VERBS)) {
      expect(verb.exits).toEqual(expect.arrayContaining(["ok", "usage", "internal"]));
      for (const exit of verb.exits) expect(Object.keys(AGENT_EXIT)).toContain(exit);
      expect(new Set(verb.exits).size).toBe(verb.exits.length);
    }
  });

  it("lets only verbs that take a release id fail on a bad one", () => {
    for (const verb of Object.values(AGENT_VERBS)) {
      const exits: readonly string[] = verb.exits;
      const argument: { kind: string } | undefined = "argument" in verb ? verb.argument : undefined;
      expect(exits.includes("badReleaseId")).toBe(argument?.kind === "releaseId");
    }
  });

  it("audits every verb that records an actor", () => {
    for (const verb of Object.values(AGENT_VERBS)) if (verb.takesActor) expect(verb.audited).toBe(true);
  });

  it("exit codes are distinct", () => {
    expect(new Set(Object.values(AGENT_EXIT)).size).toBe(Object.keys(AGENT_EXIT).length);
  });
});
