// Example app: answers /health (200, or 503 when built with HEALTHY=false) and / with its release.
"use strict";
const http = require("node:http");
const net = require("node:net");
const fs = require("node:fs");
const path = require("node:path");
const ms = require("ms");

const HEALTHY = true; // build.js rewrites this line for the "unhealthy release" test
const BUILD = "dev"; // build.js stamps the build label here
const port = Number(process.env.PORT || 3000);
const startedAt = Date.now();
let shuttingDown = false;

function migrations() {
  try {
    return fs.readFileSync(path.join(__dirname, "..", ".migrated"), "utf8").trim();
  } catch {
    return "none";
  }
}

const server = http.createServer((req, res) => {
  // While draining, every answer tells the client not to reuse its connection.
  if (shuttingDown) res.setHeader("connection", "close");
  if (req.url === "/health") {
    res.writeHead(HEALTHY ? 200 : 503, { "content-type": "text/plain" });
    res.end(HEALTHY ? "ok\n" : "unhealthy\n");
    return;
  }
  if (req.method === "POST" && req.url === "/upload") {
    // Reads the whole body and answers its size (the proxy's body limit is tested with it).
    let bytes = 0;
    req.on("data", (chunk) => (bytes += chunk.length));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ bytes }) + "\n");
    });
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
server.keepAliveTimeout = 5000;

server.listen(port, "0.0.0.0");

// EXAMPLE_APP_DRAIN=off (in the app's .env) leaves SIGINT to Node's default, as most apps do: the worker exits at
// once, dropping its open connections. The benchmark measures both (the proxy must hide the difference).
const DRAIN = process.env.EXAMPLE_APP_DRAIN !== "off";

// pm2 reload sends SIGINT once the replacement worker listens. Drain without resetting anyone:
// 1. stop accepting connections at once, so new ones go to the new workers, but keep the open ones (http's own
//    close() would drop idle keep-alive connections that a client may be reusing at this very moment);
// 2. answer every further request with "connection: close", so clients leave by themselves;
// 3. after DRAIN_MS drop what is still idle; exit when the last connection is gone (pm2's kill_timeout caps it).
const DRAIN_MS = 1000;
if (DRAIN) process.on("SIGINT", drain);
function drain() {
  if (shuttingDown) return;
  shuttingDown = true;
  net.Server.prototype.close.call(server, () => process.exit(0));
  setTimeout(() => server.closeIdleConnections(), DRAIN_MS).unref();
}
