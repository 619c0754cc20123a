// The local cloud's package mirror, as providers run one per region: a flat Debian repository
// (setup/images.sh) served over HTTP on the bridge, which every host's apt is pointed at when it
// boots. Hosts download and install packages for real; only the network path is local.
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";

export interface PackageMirror {
  /** What a host's sources.list names: `deb [trusted=yes] <url> ./`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startPackageMirror(address: string, folder: string): Promise<PackageMirror> {
  const server: Server = createServer((req, res) => {
    // Only plain file names of the one folder: no sub-paths, nothing outside it; a request a host
    // garbled (bad escapes) is a 404, never an exception in the cloud's daemon.
    let name = "";
    let size = -1;
    try {
      name = decodeURIComponent(new URL(req.url ?? "/", "http://mirror").pathname).replace(/^\/+/, "");
      const file = path.join(folder, name);
      if (name && !name.includes("/") && !name.includes("\0") && name !== ".." && (req.method === "GET" || req.method === "HEAD")) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      size = -1;
    }
    if (size < 0) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else createReadStream(path.join(folder, name)).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return { url: `http://${address}:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
