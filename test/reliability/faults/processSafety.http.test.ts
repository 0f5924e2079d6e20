/**
 * No request may bring the process down: the child (see ./childServer.ts) is fired at with what broken
 * or hostile HTTP clients send — malformed and truncated multipart bodies, bodies cut off by a client
 * that disconnects or half-closes, oversized headers. After each, the child must be alive and ready;
 * at the end no temporary upload may be left.
 */
import { until } from "../../helpers/wait.ts";
import {
  base,
  expectAlive,
  manager,
  PNG_START,
  RawClient,
  tempUploads,
  testAfterwards,
  useChildServer,
} from "./childServer.ts";

useChildServer();

const filePart = (field = "file") =>
  Buffer.concat([
    Buffer.from(
      `--XB\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    PNG_START,
    Buffer.from("0123456789abcdef"),
  ]);

describe("malformed multipart on /api/images is 400 VALIDATION_FAILED and leaves the process unharmed", () => {
  const bodies: Array<[string, string, Buffer | string]> = [
    ["cut off inside the file", "multipart/form-data; boundary=XB", filePart()],
    ["cut off inside a field other than file", "multipart/form-data; boundary=XB", filePart("other")],
    [
      "a boundary that never occurs",
      "multipart/form-data; boundary=XB",
      Buffer.concat([Buffer.from("--ZZ"), filePart().subarray(4), Buffer.from("\r\n--ZZ--\r\n")]),
    ],
    ["no boundary", "multipart/form-data", filePart()],
    ["an empty boundary", "multipart/form-data; boundary=", filePart()],
    [
      "part headers only",
      "multipart/form-data; boundary=XB",
      `--XB\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n`,
    ],
    [
      "a huge part header",
      "multipart/form-data; boundary=XB",
      `--XB\r\nContent-Disposition: form-data; name="file"; ` +
        `filename="a.png"\r\nX-Pad: ${"a".repeat(64 * 1024)}\r\n\r\n\x89PNG\r\n--XB--\r\n`,
    ],
    ["the closing boundary alone", "multipart/form-data; boundary=XB", "--XB--\r\n"],
  ];
  test.each(bodies)("%s", async (_name, contentType, body) => {
    const response = await fetch(`${base()}/api/images`, {
      method: "POST",
      headers: { authorization: `Bearer ${manager.token}`, "content-type": contentType },
      body,
    }).then(
      async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code?: string } }).error?.code }),
      (error: Error) => ({ status: 0, code: error.message }),
    );
    await expectAlive();
    expect(response).toEqual({ status: 400, code: "VALIDATION_FAILED" });
  });
});

describe("request bodies cut off by the client", () => {
  const partial: Array<[string, string, string | Buffer]> = [
    ["/api/images", "multipart/form-data; boundary=XB", filePart()],
    ["/api/auth/login", "application/json", '{"tenant":"demo","login":"owner@demo.test","pass'],
    ["/graphql", "application/json", '{"query":"{ currentUser { email } }","variab'],
  ];
  const head = (path: string, contentType: string, length: number) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${manager.token}\r\nAccept: ` +
    `application/json\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`;

  test.each(partial)(
    "%s: Content-Length larger than what is sent, then the connection is destroyed",
    async (path, contentType, body) => {
      const client = await RawClient.open();
      await client.write(head(path, contentType, body.length + 100_000));
      await client.write(body);
      // The upload is under way: its temporary file exists.
      if (path === "/api/images") await until(() => tempUploads().length > 0, "the upload's temporary file");
      client.socket.destroy();
      await expectAlive();
      if (path === "/api/images")
        await until(() => tempUploads().length === 0, "the upload's temporary file to be removed");
    },
  );

  test.each(partial)(
    "%s: the client half-closes (socket.end()) after part of the body",
    async (path, contentType, body) => {
      const client = await RawClient.open();
      await client.write(head(path, contentType, body.length + 100_000));
      await client.write(body);
      if (path === "/api/images") await until(() => tempUploads().length > 0, "the upload's temporary file");
      client.socket.end();
      await client.waitForClose("the server to close the half-closed connection");
      await expectAlive();
      if (path === "/api/images")
        await until(() => tempUploads().length === 0, "the upload's temporary file to be removed");
    },
  );

  test.each(["/api/images", "/api/auth/login", "/graphql"])(
    "%s: the client half-closes inside the request headers",
    async (path) => {
      const client = await RawClient.open();
      await client.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-da`);
      client.socket.end();
      await client.waitForClose("the server to close the half-closed connection");
      await expectAlive();
    },
  );

  test("request headers larger than the server accepts are refused with 431", async () => {
    const client = await RawClient.open();
    await client
      .write(`GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"a".repeat(128 * 1024)}\r\n\r\n`)
      .catch(() => undefined);
    await client.waitForClose("the server to refuse the headers");
    expect(client.received).toMatch(/^HTTP\/1\.1 431/);
    await expectAlive();
  });
});

testAfterwards();
