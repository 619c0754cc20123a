// Snapshots as a hostile host (or whoever wrote into the bucket) could shape them: incremental
// links on top of a good full snapshot whose manifests or archives try to delete or write outside
// /workspace — through "..", absolute paths, and a symlink an earlier link planted for a later
// one to write through. Each restore must refuse and name the entry, or keep every write inside
// /workspace; canaries outside it must not change.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { snapshotId, type Entry, type Manifest } from "../../../dataplane/snapshot/manifest.ts";
import { restoreSnapshot } from "../../../dataplane/snapshot/restore.ts";
import type { SnapshotStore } from "../../../dataplane/snapshot/store.ts";
import { checkoutStateDir } from "../../../lib/tools/paths.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

/** A member of a crafted archive: a file with content, or a symlink. */
type Member = { readonly name: string; readonly content: string } | { readonly name: string; readonly symlink: string };

/** An LZ4-compressed tar with exactly these member names (-P keeps "../" and "/" as written). */
function craftArchive(members: readonly Member[]): Buffer {
  const dir = path.join(checkoutStateDir, "chaos", `craft-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const transforms: string[] = [];
    members.forEach((m, i) => {
      const local = path.join(dir, `m${i}`);
      if ("symlink" in m) symlinkSync(m.symlink, local);
      else writeFileSync(local, m.content);
      transforms.push("--transform", `s|^m${i}$|${m.name}|`);
    });
    execFileSync("tar", ["-C", dir, "-P", "--format=posix", ...transforms, "-cf", path.join(dir, "out.tar"), ...(members.length ? members.map((_, i) => `m${i}`) : ["-T", "/dev/null"])]);
    execFileSync("lz4", ["-q", "-f", path.join(dir, "out.tar"), path.join(dir, "out.tar.lz4")]);
    return readFileSync(path.join(dir, "out.tar.lz4"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Puts a link on top of `parent` straight into the bucket: its archive, then its manifest. */
async function plantLink(store: SnapshotStore, parent: Manifest, name: string, shape: { members: readonly Member[]; entries?: readonly Entry[]; included?: readonly string[]; deleted?: readonly string[] }): Promise<Manifest> {
  const id = snapshotId(name, new Date());
  const archive = craftArchive(shape.members);
  await store.s3.send(new PutObjectCommand({ Bucket: store.settings.bucket, Key: store.archiveKey(id), Body: archive }));
  const manifest: Manifest = {
    ...parent, id, name, createdAt: new Date().toISOString(), kind: "incremental", parent: parent.id, chain: [...parent.chain, id],
    archive: { ...parent.archive, key: store.archiveKey(id), bytes: archive.length, md5: createHash("md5").update(archive).digest("hex"), parts: 1 },
    entries: shape.entries ?? parent.entries, included: shape.included ?? [], deleted: shape.deleted ?? [], discarded: [],
  };
  await store.writeManifest(manifest);
  return manifest;
}

const canaries = ["/root/canary", "/root/canary2", "/root/canary3", "/tmp/canary4"];

export const poisonedChain: Scenario = {
  id: "poisoned-chain",
  fault: "incremental links that delete or write outside /workspace",
  where: "snapshot restore onto the active GPU",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("p", 6)));
    const base = await s.snapshot("base", "full");
    const ctx = await s.context();
    const store = await ctx.snapshotStore();
    const file = (p: string): Entry => ({ path: p, type: "file", size: 6, mode: 0o644, mtime: "1700000000", md5: createHash("md5").update("owned\n").digest("hex") } as Entry);
    const dir = (p: string): Entry => ({ path: p, type: "dir", size: 0, mode: 0o755, mtime: "1700000000" } as Entry);
    const link = (p: string, target: string): Entry => ({ path: p, type: "symlink", size: 0, mode: 0o777, mtime: "1700000000", target } as Entry);

    const cases: Array<{ what: string; chain: () => Promise<Manifest>; refusal: RegExp }> = [
      { what: "a deletion through '..'", refusal: /deleted path "\.\.\/\.\.\/root\/canary" has a '\.\.' component/, chain: () => plantLink(store, base, "dotdot-delete", { members: [], deleted: ["../../root/canary"] }) },
      { what: "an absolute deletion", refusal: /deleted path "\/root\/canary" is absolute/, chain: () => plantLink(store, base, "absolute-delete", { members: [], deleted: ["/root/canary"] }) },
      { what: "an archive member through '..'", refusal: /the archive holds \.\.\/\.\.\/root\/canary2, which its manifest does not name/, chain: () => plantLink(store, base, "dotdot-member", { members: [{ name: "../../root/canary2", content: "owned\n" }] }) },
      { what: "an absolute archive member", refusal: /the archive holds \/root\/canary3, which its manifest does not name/, chain: () => plantLink(store, base, "absolute-member", { members: [{ name: "/root/canary3", content: "owned\n" }] }) },
      {
        what: "a symlink an earlier link planted, written through by a later one", refusal: /the archive holds \.\/escape, which its manifest does not name/,
        chain: async () => {
          const first = await plantLink(store, base, "plant-symlink", { members: [{ name: "./escape", symlink: "/tmp" }] });
          return plantLink(store, first, "write-through", { members: [{ name: "./escape/canary4", content: "owned\n" }] });
        },
      },
      {
        what: "a symlink the manifest names, then a file below it", refusal: /entry "escape\/canary4" is below "escape", which is not a directory of the snapshot/,
        chain: async () => {
          const first = await plantLink(store, base, "named-symlink", { members: [{ name: "./escape", symlink: "/tmp" }], entries: [...base.entries, link("escape", "/tmp")], included: ["escape"] });
          return plantLink(store, first, "below-symlink", { members: [{ name: "./escape/canary4", content: "owned\n" }], entries: [...first.entries, file("escape/canary4")], included: ["escape/canary4"] });
        },
      },
    ];

    const outcomes: string[] = [];
    await s.onGpu(async (ssh) => {
      await ssh.run(["bash", "-c", `for c in ${canaries.join(" ")}; do printf 'alive\\n' > "$c"; done`], { timeoutMs: 30_000 });
      for (const c of cases) {
        const top = await c.chain();
        const failure = await restoreSnapshot({ ssh, store, id: top.id }).then(() => undefined, (error: Error) => error);
        expectThat(failure !== undefined, `${c.what}: the restore of ${top.id} succeeded`);
        expectThat(c.refusal.test(failure!.message), `${c.what}: the restore failed, but not naming the entry: ${failure!.message.split("\n")[0]}`);
        const alive = (await ssh.run(["bash", "-c", `for c in ${canaries.join(" ")}; do printf '%s=%s\\n' "$c" "$(cat "$c" 2>/dev/null || echo gone)"; done`], { timeoutMs: 30_000 })).stdout.trim();
        expectThat(!/=(?!alive)/.test(alive), `${c.what}: outside /workspace changed: ${alive.replaceAll("\n", ", ")}`);
        outcomes.push(`${c.what}: refused`);
        for (const dead of [top.id, ...top.chain.slice(base.chain.length, -1)]) await store.delete(dead);
      }
      // The good snapshot still restores: the refusals left nothing behind that breaks it.
      await restoreSnapshot({ ssh, store, id: base.id });
    });
    return { detail: `${outcomes.length} poisoned chains refused, each naming its entry; canaries outside /workspace intact; the good snapshot restores` };
  },
};
