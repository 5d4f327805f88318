import { SECRET_PLACEHOLDER, parseStackFile } from "../../../config/stackFile";

describe("parseStackFile", () => {
  it("marks a key secret when any value under it is secure, and hides the ciphertext", () => {
    const f = parseStackFile(
      [
        "encryptionsalt: v1:abc",
        "config:",
        "  edgefleet:region: cn-east",
        "  edgefleet:ssh:",
        "    user: edgefleet",
        "    privateKey:",
        "      secure: v1:xyz",
        "  edgefleet:token:",
        "    secure: v1:top",
      ].join("\n"),
    );
    expect(f.encryptionSalt).toBe("v1:abc");
    expect([...f.secretKeys].sort()).toEqual(["edgefleet:ssh", "edgefleet:token"]);
    expect(f.rawConfig["edgefleet:ssh"]).toEqual({
      user: "edgefleet",
      privateKey: SECRET_PLACEHOLDER,
    });
    expect(f.rawConfig["edgefleet:token"]).toBe(SECRET_PLACEHOLDER);
    expect(f.rawConfig["edgefleet:region"]).toBe("cn-east");
  });
  it("reports a plain key as not secret", () => {
    const f = parseStackFile("config:\n  edgefleet:ssh:\n    privateKey: plain\n");
    expect(f.secretKeys.size).toBe(0);
  });
});
