// connect() against servers that fail the way a dying host does, on real local sockets.
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../../dataplane/ssh/client.ts";
import { makeKeyPair } from "../../../support/local-cloud.ts";

const key = makeKeyPair("connect-test");
let server: Server | undefined;
const sockets: Socket[] = [];

async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return (server!.address() as { port: number }).port;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe("connect to a host that dies as it answers", () => {
  it("fails at once when the server sends its banner and closes (ssh2 reports no error then: it used to wait forever)", async () => {
    const port = await listen((socket) => {
      socket.write("SSH-2.0-OpenSSH_9.2\r\n");
      setTimeout(() => socket.destroy(), 100);
    });
    const started = Date.now();
    await expect(connect({ host: "127.0.0.1", port, privateKey: key.privateKey, hostKey: key.publicKey, connectTimeoutMs: 5_000 }))
      .rejects.toThrow(/closed before SSH was ready/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("fails within its timeout when the server accepts and never speaks", async () => {
    const port = await listen(() => undefined);
    const started = Date.now();
    await expect(connect({ host: "127.0.0.1", port, privateKey: key.privateKey, hostKey: key.publicKey, connectTimeoutMs: 1_000 }))
      .rejects.toThrow(/Timed out while waiting for handshake/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
