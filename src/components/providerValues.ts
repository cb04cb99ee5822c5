import * as pulumi from "@pulumi/pulumi";

/**
 * A provider value the program cannot work without (a key, an id) turned out malformed. Real providers always
 * return it; when one does not (a broken provider, a test mock that echoes inputs), the update must fail loudly,
 * and it does: an error logged through Pulumi fails `pulumi up`/`preview`, while the program keeps registering
 * the rest so that every problem shows at once.
 */
export function reportMalformed<T>(message: string, fallback: T): T {
  void pulumi.log.error(message);
  return fallback;
}
