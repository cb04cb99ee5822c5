import path from "node:path";

/** Bump when the image recipe changes: a new version builds a new cached image beside the old one. */
export const IMAGE_RECIPE_VERSION = "v1";
export const DEBIAN_SUITE = "bookworm";

export const CACHE_DIR = process.env.PIPELINE_TESTHOST_CACHE ?? "/var/cache/pipeline-testhost";
/** Per-host writable layers live on disk (not tmpfs) because provisioning installs Node into them. */
export const STATE_DIR = process.env.PIPELINE_TESTHOST_STATE ?? "/var/tmp/pipeline-testhost";

/** Every leftover of a host (netns, veth, state dir, proxy argument) carries this prefix. */
export const HOST_NAME_PREFIX = "pipeline-th-";
export const VETH_PREFIX = "pth";

export const hostStateDir = (name: string): string => path.join(STATE_DIR, name);

/** Repository root (this file is src/testhost/paths.ts). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Files in a host's state dir: the saved handle, and the owner label written the moment the slot is claimed. */
export const HANDLE_FILE = "handle.json";
export const OWNER_FILE = "owner";
