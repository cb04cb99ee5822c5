// Caddy's home and its admin API, shared by the reverse-proxy step and the upstream helper that asks the API.

/** The caddy user's home (Debian's package): its storage (certificates, the local CA) lives below it. */
export const CADDY_HOME = "/var/lib/caddy";
/**
 * The admin API on a unix socket the caddy user owns (mode from its umask 027): on the default localhost:2019, any
 * local user, the app and the deploy user too, could load a config of its own into the proxy.
 */
export const CADDY_ADMIN_SOCKET = `${CADDY_HOME}/admin.sock`;
