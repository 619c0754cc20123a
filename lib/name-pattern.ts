// Shell-style name patterns, as the seed's cleanup commands used them (`--pattern "test-snapshot-*"`,
// `--pattern "test-failover-*"`): `*` is any run of characters, `?` one character, nothing else is special.
export function matchesPattern(name: string, pattern: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".")}$`);
  return regex.test(name);
}
