// Example app: answers /health (200, or 503 when built with HEALTHY=false) and / with its release.
"use strict";
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");
const ms = require("ms");

const HEALTHY = true; // build.js rewrites this line for the "unhealthy release" test
const BUILD = "dev"; // build.js stamps the build label here
const port = Number(process.env.PORT || 3000);
const startedAt = Date.now();

function migrations() {
  try {
    return fs.readFileSync(path.join(__dirname, "..", ".migrated"), "utf8").trim();
  } catch {
    return "none";
  }
}

const server = http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(HEALTHY ? 200 : 503, { "content-type": "text/plain" });
    res.end(HEALTHY ? "ok\n" : "unhealthy\n");
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      build: BUILD,
      pid: process.pid,
      up: ms(Date.now() - startedAt),
      greeting: process.env.GREETING || null,
      migrations: migrations(),
    }) + "\n",
  );
});
server.keepAliveTimeout = 1000;

server.listen(port, "0.0.0.0");

// pm2 reload sends SIGINT: stop accepting, finish in-flight requests, then exit.
process.on("SIGINT", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 3000).unref();
});
