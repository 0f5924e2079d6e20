/**
 * An upload is read as a whole image before it is stored: real encoders' files of each type are
 * accepted with their width and height; a file cut short or broken is 400 VALIDATION_FAILED
 * (MALFORMED_IMAGE) and one declaring more than IMAGE_MAX_PIXELS is 400 VALIDATION_FAILED
 * (TOO_MANY_PIXELS) — in both cases nothing is stored or recorded and no temporary file is left.
 */
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { inspectImage } from "../../src/modules/media/inspect.ts";
import { sniffImageType } from "../../src/modules/media/sniff.ts";
import { fixture, png, pngChunk } from "../helpers/images.ts";
import { app, manager, storedFiles, tempFiles, upload, useImageApp } from "./imageApp.ts";

/** Real encoders' output: Chromium's canvas (3 × 2 pixels) and the classic 1 × 1 GIF. */
const FIXTURES: Array<[string, string, number, number]> = [
  ["canvas.png", "image/png", 3, 2],
  ["canvas.jpg", "image/jpeg", 3, 2],
  ["canvas-lossy.webp", "image/webp", 3, 2],
  ["canvas-lossless.webp", "image/webp", 3, 2],
  ["pixel.gif", "image/gif", 1, 1],
];

const imageCount = async () =>
  (await app.db.ownerPool.query<{ count: number }>("select count(*)::int as count from app_public.images")).rows[0]!
    .count;

/** The answer to an upload that must be refused, with what it left behind. */
async function refusal(bytes: Buffer) {
  const [files, images] = [await storedFiles(), await imageCount()];
  const response = await upload(manager.token, bytes);
  return {
    status: response.status,
    code: response.body.error?.code,
    details: response.body.error?.details,
    storedNothing: (await storedFiles()).length === files.length && (await imageCount()) === images,
    tempFiles: tempFiles(),
  };
}

/** A PNG claiming `width` × `height`, its IHDR's CRC right. */
const claimingPng = (width: number, height: number) => png(77, 200, { width, height });

/** `bytes` with a big-endian (`be`) or little-endian number of `size` bytes written at `offset`. */
function edited(bytes: Buffer, offset: number, value: number, size: 2 | 3, order: "be" | "le"): Buffer {
  const copy = Buffer.from(bytes);
  if (order === "be") copy.writeUIntBE(value, offset, size);
  else copy.writeUIntLE(value, offset, size);
  return copy;
}

useImageApp("local");

test.each(FIXTURES)("%s is accepted as %s of %i × %i pixels", async (name, type, width, height) => {
  const response = await upload(manager.token, fixture(name), name);
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ contentType: type, width, height, size: fixture(name).length });
});

test.each(FIXTURES)("%s cut short by one byte, or by half, is MALFORMED_IMAGE and stores nothing", async (name) => {
  const whole = fixture(name);
  for (const bytes of [whole.subarray(0, whole.length - 1), whole.subarray(0, Math.ceil(whole.length / 2))]) {
    expect(await refusal(bytes)).toEqual({
      status: 400,
      code: "VALIDATION_FAILED",
      details: { field: "file", reason: "MALFORMED_IMAGE" },
      storedNothing: true,
      tempFiles: [],
    });
  }
});

test("the refusal says what is wrong, in words", async () => {
  const cut = fixture("canvas.png").subarray(0, 60);
  const response = await upload(manager.token, cut);
  expect(response.body.error.message).toBe(
    "The PNG image is not valid: the file is cut short: it ends inside its IDAT chunk.",
  );
});

test("a PNG whose chunk CRC is wrong, or whose first chunk is not IHDR, is MALFORMED_IMAGE", async () => {
  const wrongCrc = Buffer.from(fixture("canvas.png"));
  const inIdat = wrongCrc.length - 20; // inside the IDAT chunk's data
  wrongCrc[inIdat] = wrongCrc[inIdat]! ^ 0xff;
  const noHeader = Buffer.concat([png(1).subarray(0, 8), pngChunk("IEND", Buffer.alloc(0))]);
  for (const bytes of [wrongCrc, noHeader])
    expect((await refusal(bytes)).details).toEqual({ field: "file", reason: "MALFORMED_IMAGE" });
});

test("bytes after the end marker are accepted, as browsers accept them", async () => {
  const trailing = Buffer.concat([fixture("canvas.jpg"), Buffer.from("appended by a camera")]);
  const response = await upload(manager.token, trailing, "trailing.jpg");
  expect([response.status, response.body.width, response.body.height]).toEqual([201, 3, 2]);
});

test("an image of more than IMAGE_MAX_PIXELS (default 50,000,000) is TOO_MANY_PIXELS in every format", async () => {
  const jpeg = fixture("canvas.jpg");
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  const bombs: Array<[string, Buffer, number, number]> = [
    ["png", claimingPng(2 ** 31 - 1, 2 ** 31 - 1), 2 ** 31 - 1, 2 ** 31 - 1],
    ["jpeg", edited(edited(jpeg, sof + 5, 65_535, 2, "be"), sof + 7, 65_535, 2, "be"), 65_535, 65_535],
    ["gif", edited(edited(fixture("pixel.gif"), 6, 65_535, 2, "le"), 8, 65_535, 2, "le"), 65_535, 65_535],
    // VP8X: the canvas size minus one, 24 bits each, at 4 and 7 of the chunk's data (from 20).
    ["webp", edited(edited(fixture("canvas-lossy.webp"), 24, 16_383, 3, "le"), 27, 16_383, 3, "le"), 16_384, 16_384],
  ];
  for (const [format, bytes, width, height] of bombs) {
    expect({ format, ...(await refusal(bytes)) }).toEqual({
      format,
      status: 400,
      code: "VALIDATION_FAILED",
      details: { field: "file", reason: "TOO_MANY_PIXELS", max: 50_000_000, width, height },
      storedNothing: true,
      tempFiles: [],
    });
  }
});

test("exactly IMAGE_MAX_PIXELS is accepted; one row more is refused", async () => {
  const exact = await upload(manager.token, claimingPng(10_000, 5_000));
  expect([exact.status, exact.body.width, exact.body.height]).toEqual([201, 10_000, 5_000]);
  const over = await refusal(claimingPng(10_000, 5_001));
  expect([over.status, over.details?.reason]).toEqual([400, "TOO_MANY_PIXELS"]);
});

test("a PNG's header is read as the CRC covers it: a size edited without its CRC is MALFORMED_IMAGE", async () => {
  const bytes = Buffer.from(fixture("canvas.png"));
  bytes.writeUInt32BE(100_000, 16); // IHDR width, its CRC left as it was
  expect(crc32(bytes.subarray(12, 29))).not.toBe(bytes.readUInt32BE(29));
  expect((await refusal(bytes)).details).toEqual({ field: "file", reason: "MALFORMED_IMAGE" });
});

test("no damage to a file makes the reading throw: every result is a size or a problem (never a 500)", () => {
  const damaged = fc.record({
    name: fc.constantFrom(...FIXTURES.map(([name]) => name)),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
    cut: fc.nat(),
  });
  fc.assert(
    fc.property(damaged, ({ name, flips, cut }) => {
      const bytes = Buffer.from(fixture(name));
      // The type's first bytes kept, as the sniffing that comes first requires them.
      for (const { at, value } of flips) bytes[12 + (at % (bytes.length - 12))] = value;
      const kept = bytes.subarray(0, Math.max(12, bytes.length - (cut % bytes.length)));
      const inspection = inspectImage(kept, sniffImageType(kept)!);
      expect("problem" in inspection || (inspection.width > 0 && inspection.height > 0)).toBe(true);
    }),
    { numRuns: 3_000 },
  );
});
