import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { generateEd25519KeyPair } from "../../src/primitives/sshKeyPair";

describe("generateEd25519KeyPair", () => {
  // ssh2 alone makes about one unreadable pair in 256 (mscdex/ssh2 issue 1513): 2000 pairs meet several.
  it("hands out only pairs that ssh2 reads back, with the comment on the public key", () => {
    for (let i = 0; i < 2000; i++) {
      const pair = generateEd25519KeyPair(`key-${i}`);
      expect(utils.parseKey(pair.privateKey)).not.toBeInstanceOf(Error);
      expect(utils.parseKey(pair.publicKey)).not.toBeInstanceOf(Error);
      expect(pair.publicKey).toMatch(new RegExp(`^ssh-ed25519 [A-Za-z0-9+/=]+ key-${i}$`));
    }
  });
});
