/**
 * Quotes one word for POSIX sh: inside single quotes nothing is special, so
 * `$()`, backticks, globs and newlines stay literal; a quote closes, is
 * escaped, and reopens.
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
