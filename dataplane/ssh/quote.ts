// Remote commands are argument lists; this turns one into a POSIX shell command line in which every
// argument stays exactly one word, whatever it contains (spaces, quotes, newlines, a leading dash).

export function quoteArg(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_\-+=./:,@%^]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function quoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("a remote command needs at least the program name");
  // sshd drops the whole connection on a NUL in a command: say which argument instead.
  const withNul = argv.findIndex((a) => a.includes("\0"));
  if (withNul >= 0) throw new Error(`argument ${withNul} of remote command ${JSON.stringify(argv[0])} holds a NUL byte, which no remote command line can carry`);
  return argv.map(quoteArg).join(" ");
}
