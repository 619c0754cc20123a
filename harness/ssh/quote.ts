// Remote commands are argument lists; this turns one into a POSIX shell command line in which every
// argument stays exactly one word, whatever it contains (spaces, quotes, newlines, a leading dash).

export function quoteArg(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_\-+=./:,@%^]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function quoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("a remote command needs at least the program name");
  return argv.map(quoteArg).join(" ");
}
