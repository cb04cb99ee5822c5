// Allow-list HTTP proxy for a disposable host: the guest's only way out. CONNECT tunnels (https) and plain-HTTP
// forwarding (apt over http) to the listed host names; every other destination gets 403.
// Run as its own process: node --import tsx src/testhost/proxy.ts --listen 10.200.1.1:3128 --allow a.example,b.example
import http from "node:http";
import net from "node:net";

interface ProxyOptions {
  host: string;
  port: number;
  allowedHosts: readonly string[];
}

function isAllowed(allowedHosts: readonly string[], hostname: string): boolean {
  const wanted = hostname.toLowerCase().replace(/\.$/, "");
  return allowedHosts.some((allowed) => allowed.toLowerCase() === wanted);
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

/** Splits "host:port" (CONNECT's target), including "[v6]:port". */
function parseAuthority(authority: string): { hostname: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  if (!match?.[1] || !match[2]) return undefined;
  return { hostname: match[1], port: Number(match[2]) };
}

function tunnel(
  allowedHosts: readonly string[],
  request: http.IncomingMessage,
  client: net.Socket,
  head: Buffer,
): void {
  const target = parseAuthority(request.url ?? "");
  client.on("error", () => client.destroy());
  if (!target || !isAllowed(allowedHosts, target.hostname)) {
    log(`DENY CONNECT ${request.url ?? ""}`);
    client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  log(`ALLOW CONNECT ${request.url ?? ""}`);
  const upstream = net.connect(target.port, target.hostname, () => {
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on("error", (error) => {
    log(`FAIL CONNECT ${request.url ?? ""}: ${error.message}`);
    if (client.writable) client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  });
  client.on("close", () => upstream.destroy());
}

function forward(
  allowedHosts: readonly string[],
  request: http.IncomingMessage,
  response: http.ServerResponse,
): void {
  let target: URL | undefined;
  try {
    target = new URL(request.url ?? "");
  } catch {
    target = undefined;
  }
  if (!target || target.protocol !== "http:" || !isAllowed(allowedHosts, target.hostname)) {
    log(`DENY ${request.method ?? ""} ${request.url ?? ""}`);
    response.writeHead(403, { "Content-Length": "0" }).end();
    return;
  }
  log(`ALLOW ${request.method ?? ""} ${request.url ?? ""}`);
  const headers = { ...request.headers };
  delete headers["proxy-connection"];
  delete headers["proxy-authorization"];
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port || 80,
      path: `${target.pathname}${target.search}`,
      method: request.method,
      headers,
    },
    (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.pipe(response);
    },
  );
  upstream.on("error", (error) => {
    log(`FAIL ${request.url ?? ""}: ${error.message}`);
    if (!response.headersSent) response.writeHead(502, { "Content-Length": "0" });
    response.end();
  });
  request.pipe(upstream);
}

function createAllowListProxy(allowedHosts: readonly string[]): http.Server {
  const server = http.createServer((request, response) => forward(allowedHosts, request, response));
  server.on("connect", (request: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
    tunnel(allowedHosts, request, socket, head),
  );
  return server;
}

function parseProxyArguments(argv: readonly string[]): ProxyOptions {
  const valueOf = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const listen = parseAuthority(valueOf("--listen") ?? "");
  const allow = valueOf("--allow");
  if (!listen || !allow) {
    throw new Error(
      "usage: proxy.ts --listen <address>:<port> --allow <host>[,<host>...] [--name <host name>]",
    );
  }
  return { host: listen.hostname, port: listen.port, allowedHosts: allow.split(",").filter(Boolean) };
}

function main(): void {
  const options = parseProxyArguments(process.argv.slice(2));
  const server = createAllowListProxy(options.allowedHosts);
  server.listen(options.port, options.host, () => log(`listening on ${options.host}:${options.port}`));
}

if (require.main === module) main();
