// A manifest comes from a bucket, so its paths are data that a restore must never obey blindly: a
// path like "../root/x" or "/etc/x" in `deleted` would make the restore remove files outside
// /workspace. Every manifest of a chain is checked before the restore touches the host.
import { DumontError } from "../../lib/errors.ts";
import { EntryTable } from "./entry-table.ts";
import { entryFields, treeIndex, type Manifest } from "./manifest.ts";
import { longestPath, PathList } from "./string-column.ts";
import { hasSurrogate, pathToBytes } from "./path-bytes.ts";

export class UnsafeManifestError extends DumontError {
  constructor(id: string, problem: string) {
    super(`snapshot ${id} cannot be restored safely: ${problem}`);
  }
}

/** Components of anything but NUL and '/', none of them "." or "..", joined by single slashes. */
const plainPath = /^(?!\.\.?(?:\/|$))[^/\0]+(?:\/(?!\.\.?(?:\/|$))[^/\0]+)*$/;

/** Why `path` is not a plain path inside the workspace, or undefined when it is one. */
export function pathProblem(path: unknown): string | undefined {
  // Most names are plain: one pattern clears them (a manifest may hold a million).
  if (typeof path === "string" && path.length <= longestPath && plainPath.test(path) && !hasSurrogate(path)) return undefined;
  if (typeof path !== "string" || path === "") return "is not a path";
  if (path.length > longestPath) return `is longer than any path (${path.length} characters)`;
  if (path.includes("\0")) return "holds a NUL byte";
  if (path.startsWith("/")) return "is absolute";
  for (const component of path.split("/")) {
    if (component === "") return "has an empty component";
    if (component === "." || component === "..") return `has a '${component}' component`;
  }
  try {
    pathToBytes(path);
  } catch {
    return "holds characters that stand for no bytes";
  }
  return undefined;
}

const entryTypes = new Set(["file", "dir", "symlink"]);

/**
 * Throws UnsafeManifestError naming the first entry that is not a plain relative path, or that
 * does not fit the tree: an entry below something that is not a directory of the same manifest,
 * an archive member the tree does not have, or a discarded path below a symlink or a file of it.
 */
export function checkManifest(manifest: Manifest): void {
  const refuse = (problem: string): never => {
    throw new UnsafeManifestError(manifest.id, problem);
  };
  const checkPath = (list: string, path: unknown) => {
    const problem = pathProblem(path);
    if (problem) refuse(`${list} path ${JSON.stringify(path)} ${problem}`);
  };
  const checkPaths = (list: string, paths: unknown): Iterable<string> => {
    if (!Array.isArray(paths) && !(paths instanceof PathList)) return refuse(`its ${list} list is missing`);
    for (const path of paths as Iterable<unknown>) checkPath(list, path);
    return paths as Iterable<string>;
  };
  if (!Array.isArray(manifest.entries) && !(manifest.entries instanceof EntryTable)) refuse("it has no entries");
  const entries = entryFields(manifest.entries);
  for (let i = 0; i < entries.length; i++) checkPath("entry", entries.pathAt(i));
  for (let i = 0; i < entries.length; i++) {
    const type = entries.typeAt(i);
    if (!entryTypes.has(type)) refuse(`entry ${JSON.stringify(entries.pathAt(i))} has an unknown type ${JSON.stringify(type)}`);
    const target = type === "symlink" ? entries.targetAt(i) : undefined;
    if (type === "symlink" && (typeof target !== "string" || target === "" || target.includes("\0"))) {
      refuse(`symlink ${JSON.stringify(entries.pathAt(i))} has no usable target`);
    }
  }
  const types = treeIndex(manifest.entries);
  if (types.size !== entries.length) {
    const once = new Set<string>();
    for (let i = 0; i < entries.length; i++) {
      const path = entries.pathAt(i);
      if (once.has(path)) refuse(`entry ${JSON.stringify(path)} appears twice`);
      once.add(path);
    }
  }
  for (const path of types.paths()) {
    const parent = path.slice(0, Math.max(0, path.lastIndexOf("/")));
    if (parent && types.type(parent) !== "dir") refuse(`entry ${JSON.stringify(path)} is below ${JSON.stringify(parent)}, which is not a directory of the snapshot`);
  }
  if (!Array.isArray(manifest.included) && !(manifest.included instanceof PathList)) refuse("its included list is missing");
  // An entry's path is checked already: only what is not one needs its problem named.
  for (const path of manifest.included) {
    if (!types.has(path)) refuse(`included path ${JSON.stringify(path)} ${pathProblem(path) ?? "is not an entry of the snapshot"}`);
  }
  checkPaths("deleted", manifest.deleted);
  // A path that vanished while the snapshot was made is below folders, or below what vanished too:
  // never below a symlink or a file the tree has (the archive would be written through it).
  for (const path of checkPaths("discarded", manifest.discarded ?? [])) {
    for (let slash = path.indexOf("/"); slash > 0; slash = path.indexOf("/", slash + 1)) {
      const parent = path.slice(0, slash);
      const type = types.type(parent);
      if (type !== undefined && type !== "dir") refuse(`discarded path ${JSON.stringify(path)} is below ${JSON.stringify(parent)}, which is a ${type} of the snapshot`);
    }
  }
}
