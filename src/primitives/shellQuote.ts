// Quoting for POSIX shells: the only place in the project that escapes a word for bash.

const SAFE_WORD = /^[A-Za-z0-9_/.,:@%+=-]+$/;

/** Always single-quotes: `it's` -> `'it'\''s'`. */
export function singleQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Like singleQuote, but words made only of safe characters stay bare (readable generated scripts). */
export function quote(word: string): string {
  return SAFE_WORD.test(word) ? word : singleQuote(word);
}
