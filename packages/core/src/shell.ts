/** POSIX shell quoting: every value reaches the command as one intact word. */

const safeWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for POSIX sh. Words of safe characters stay bare for readability. */
export function shellQuote(word: string): string {
  if (safeWord.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
