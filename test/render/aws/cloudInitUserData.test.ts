import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cloudInitUserData } from "../../../src/render/aws/cloudInitUserData";

const HOST_KEY = {
  privateKeyOpenssh:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
  publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpE8hTFaInvZ6s2e5N2m7cDqtVnQ4BqB0mRQ3Z1jr0K\n",
};
const ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";

function render(adminUser: string): Record<string, unknown> {
  const text = cloudInitUserData({ adminUser, adminPublicKey: `${ADMIN_KEY}\n`, hostKey: HOST_KEY });
  expect(text.startsWith("#cloud-config\n")).toBe(true);
  return parse(text) as Record<string, unknown>;
}

describe("cloudInitUserData", () => {
  it("replaces the image's host keys with exactly the program's ed25519 key, byte for byte", () => {
    const data = render("admin");
    expect(data["ssh_deletekeys"]).toBe(true);
    expect(data["ssh_keys"]).toEqual({
      ed25519_private: HOST_KEY.privateKeyOpenssh,
      ed25519_public: HOST_KEY.publicKeyOpenssh.trim(),
    });
    expect(data["ssh_pwauth"]).toBe(false);
  });

  it("creates only adminUser, with the admin key, a locked password and passwordless sudo; root stays closed", () => {
    const data = render("admin");
    expect(data["disable_root"]).toBe(true);
    expect(data["users"]).toEqual([
      {
        name: "admin",
        lock_passwd: true,
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        ssh_authorized_keys: [ADMIN_KEY],
      },
    ]);
  });

  it("lets root in with the admin key when adminUser is root, and creates no other user", () => {
    const data = render("root");
    expect(data["disable_root"]).toBe(false);
    expect(data["users"]).toEqual([{ name: "root", lock_passwd: true, ssh_authorized_keys: [ADMIN_KEY] }]);
  });
});
