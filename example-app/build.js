// Builds dist/ from src/. BUILD_LABEL stamps the build; HEALTHY=false builds a release whose /health fails;
// UNHEALTHY_WHEN_ENV=NAME one whose /health fails where its environment sets NAME (a host missing a resource).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const out = path.join(__dirname, "dist");
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out);
for (const file of fs.readdirSync(path.join(__dirname, "src"))) {
  let text = fs.readFileSync(path.join(__dirname, "src", file), "utf8");
  if (file === "server.js") {
    text = text.replace(
      "const HEALTHY = true;",
      `const HEALTHY = ${
        process.env.HEALTHY === "false"
          ? "false"
          : process.env.UNHEALTHY_WHEN_ENV
            ? `!process.env[${JSON.stringify(process.env.UNHEALTHY_WHEN_ENV)}]`
            : "true"
      };`,
    );
    text = text.replace(
      'const BUILD = "dev";',
      `const BUILD = ${JSON.stringify(process.env.BUILD_LABEL || "dev")};`,
    );
  }
  fs.writeFileSync(path.join(out, file), text);
}
