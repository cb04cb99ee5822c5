// Example migration runner: records applied migrations in <release>/.migrated so tests can see they ran.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const file = path.join(__dirname, "..", ".migrated");
const action = process.argv[2];
if (action === "up") fs.writeFileSync(file, "001_init\n");
else if (action === "down") fs.rmSync(file, { force: true });
else if (action !== "status") {
  console.error(`usage: migrate.js up|down|status`);
  process.exit(64);
}
console.log(`migrations: ${fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "none"}`);
