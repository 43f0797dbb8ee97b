import { createServer, type Server } from "node:net";

/**
 * A server on the Unix socket `address` (a path, or `\0` and a name for an abstract socket) that
 * counts who connects.
 */
export async function listen(address: string): Promise<{ server: Server; connections: () => number }> {
  let count = 0;
  const server = createServer((client) => {
    count++;
    client.destroy();
  });
  await new Promise<void>((resolve) => server.listen(address, resolve));
  return { server, connections: () => count };
}
