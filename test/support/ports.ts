import { createServer } from "node:net";
import { createSocket } from "node:dgram";

/**
 * A port free for both TCP and UDP on 127.0.0.1 right now (for peers such as sipp and kamailio that cannot be
 * told to use port 0 and report back).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket("udp4");
      s.once("error", () => resolve(false));
      s.bind(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (port > 0 && udpFree) return port;
  }
  throw new Error("no free port found in 50 attempts");
}
