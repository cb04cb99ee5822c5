// The last lines of the app's pm2 logs on a host, for the sandbox's "never became healthy" message. Read as the
// deploy user (the files are in its directory: root would follow a link planted there).
import type { PipelineConfig } from "../config/types";
import { quote } from "../primitives/shellQuote";
import { hostLayout } from "../render/hostLayout";
import { type HostHandle, connect } from "../testhost";

export function appLogFiles(config: PipelineConfig): string[] {
  const { logs } = hostLayout(config);
  return [`${logs}/${config.app.name}-out.log`, `${logs}/${config.app.name}-error.log`];
}

export async function appLogTail(host: HostHandle, config: PipelineConfig, lines = 30): Promise<string> {
  const tails = appLogFiles(config).map(
    (file) =>
      `printf '%s\\n' ${quote(`--- ${file}`)}; runuser -u ${quote(config.deployUser)} -- tail -n ${lines} -- ${quote(file)} 2>&1 || true`,
  );
  const session = await connect(host);
  try {
    const result = await session.exec(`cd / && { ${tails.join("; ")}; }`, { timeoutMs: 30_000 });
    return result.stdout.trimEnd();
  } finally {
    session.end();
  }
}
