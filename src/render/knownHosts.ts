// known_hosts lines for the hosts of a stack: what the workflows pin with StrictHostKeyChecking=yes.

/** `host key` on port 22, `[host]:port key` elsewhere (OpenSSH's known_hosts syntax); the key's comment is dropped. */
export function knownHostsLine(host: string, port: number, publicKey: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  const address = port === 22 ? host : `[${host}]:${port}`;
  return `${address} ${type} ${blob}`;
}

export function knownHostsFile(lines: readonly string[]): string {
  return lines
    .filter((line) => line !== "")
    .map((line) => `${line}\n`)
    .join("");
}
