/** The value `read` returns, or `fallback` when it throws (a file that may be gone, a dir that may not exist). */
export function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
