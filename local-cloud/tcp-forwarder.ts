// Vast's SSH proxy path (ssh_host:ssh_port): a TCP relay on the controller in front of a host's
// sshd. It is one more hop than the direct path, as on Vast.
import { createConnection, createServer, type Socket } from "node:net";

export interface Forwarder {
  readonly port: number;
  close(): Promise<void>;
}

export function startTcpForwarder(listenHost: string, targetHost: string, targetPort: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    track(client);
    track(upstream);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, listenHost, () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("forwarder has no port"));
      resolve({
        port: address.port,
        close: () => new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
