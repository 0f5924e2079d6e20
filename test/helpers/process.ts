/** Running Tessera's own entry points as child processes, as an operator would. */
import { createServer, type AddressInfo } from "node:net";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls /ready until it answers 200; `describe` adds context to the timeout error. */
export async function waitForReady(port: number, describe: () => string = () => "", timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error(`server did not become ready\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
