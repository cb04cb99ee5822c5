// Everything a stack commits into the app repository, rendered from its config.
import type { PipelineConfig } from "../../config/types";
import {
  CI_WORKFLOW_PATH,
  DEPENDABOT_PATH,
  RELEASE_WORKFLOW_PATH,
  deployWorkflowPath,
  migrateWorkflowPath,
  restoreWorkflowPath,
  rollbackWorkflowPath,
} from "../githubNames";
import { ciJobSpecs, ciWorkflow } from "./ci";
import { dependabotConfig } from "./dependabot";
import { deployWorkflow } from "./deploy";
import { migrateWorkflow } from "./migrate";
import { releaseWorkflow } from "./release";
import { restoreWorkflow } from "./restore";
import { rollbackWorkflow } from "./rollback";
import { documentToYaml, workflowToYaml } from "./toYaml";

export { secretUses, type SecretUse } from "./secretUses";

export interface RepositoryFile {
  path: string;
  content: string;
  /** "repository": only the stack with ownsRepositorySettings commits it; "environment": every stack its own. */
  scope: "repository" | "environment";
}

function repositoryFiles(config: PipelineConfig): RepositoryFile[] {
  const by = { stack: config.stack };
  const files: RepositoryFile[] = [
    { path: CI_WORKFLOW_PATH, content: workflowToYaml(ciWorkflow(config), by), scope: "repository" },
  ];
  if (config.release.enabled) {
    files.push({
      path: RELEASE_WORKFLOW_PATH,
      content: workflowToYaml(releaseWorkflow(config), by),
      scope: "repository",
    });
  }
  if (config.dependencyUpdates.enabled) {
    files.push({
      path: DEPENDABOT_PATH,
      content: documentToYaml(dependabotConfig(config), by),
      scope: "repository",
    });
  }
  return files;
}

function environmentFiles(config: PipelineConfig): RepositoryFile[] {
  const by = { stack: config.stack };
  const env = config.environment;
  return [
    {
      path: deployWorkflowPath(env),
      content: workflowToYaml(deployWorkflow(config), by),
      scope: "environment",
    },
    {
      path: rollbackWorkflowPath(env),
      content: workflowToYaml(rollbackWorkflow(config), by),
      scope: "environment",
    },
    {
      path: migrateWorkflowPath(env),
      content: workflowToYaml(migrateWorkflow(config), by),
      scope: "environment",
    },
    {
      path: restoreWorkflowPath(env),
      content: workflowToYaml(restoreWorkflow(config), by),
      scope: "environment",
    },
  ];
}

/** Every file the stack commits; repository-wide files only from the stack that owns repository settings. */
export function renderRepositoryFiles(config: PipelineConfig): RepositoryFile[] {
  return [...(config.ownsRepositorySettings ? repositoryFiles(config) : []), ...environmentFiles(config)];
}

/** The checks branch protection requires: the CI jobs, by the name GitHub reports (name = id). */
export function requiredStatusChecks(config: PipelineConfig): string[] {
  return ciJobSpecs(config.app).map((spec) => spec.id);
}
