/**
 * An upload is read as a whole image before it is stored: real encoders' files of each type are
 * accepted with their width and height; a file cut short or broken is 400 VALIDATION_FAILED
 * (MALFORMED_IMAGE) and one declaring more than MEDIA_IMAGE_MAX_PIXELS is 400 VALIDATION_FAILED
 * (TOO_MANY_PIXELS) — in both cases nothing is stored or recorded and no temporary file is left.
 */
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { inspectImage } from "../../src/modules/media/inspect.ts";
import { sniffImageType } from "../../src/modules/media/sniff.ts";
import { fixture, idat, iend, ihdr, png, pngChunk, pngOf } from "../helpers/images.ts";
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

/** `bytes` with a 16-bit number, big-endian (`be`) or little-endian, written at `offset`. */
function edited(bytes: Buffer, offset: number, value: number, order: "be" | "le"): Buffer {
  const copy = Buffer.from(bytes);
  if (order === "be") copy.writeUInt16BE(value, offset);
  else copy.writeUInt16LE(value, offset);
  return copy;
}

/** A RIFF chunk: name, little-endian length, data, a pad byte when the length is odd. */
function riffChunk(name: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(name, 0, "latin1");
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
}
const webpOf = (...chunks: Buffer[]) => {
  const body = Buffer.concat([Buffer.from("WEBP"), ...chunks]);
  const head = Buffer.from("RIFF0000");
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
};
/** The VP8L bitstream (3 × 2) of the lossless fixture, as a chunk. */
function losslessBitstream(): Buffer {
  const file = fixture("canvas-lossless.webp");
  const at = file.indexOf("VP8L");
  return file.subarray(at, at + 8 + file.readUInt32LE(at + 4));
}
/** An extended WebP's VP8X chunk: `flags`, a canvas of `width` × `height`. */
function vp8x(flags: number, width: number, height: number): Buffer {
  const data = Buffer.alloc(10);
  data[0] = flags;
  data.writeUIntLE(width - 1, 4, 3);
  data.writeUIntLE(height - 1, 7, 3);
  return riffChunk("VP8X", data);
}
/** An animated WebP of `canvas` whose one frame (the 3 × 2 bitstream) is at (`left`, `top`). */
function animatedWebp(canvas: { width: number; height: number }, left: number, top: number): Buffer {
  const frame = Buffer.alloc(16);
  frame.writeUIntLE(left / 2, 0, 3);
  frame.writeUIntLE(top / 2, 3, 3);
  frame.writeUIntLE(3 - 1, 6, 3);
  frame.writeUIntLE(2 - 1, 9, 3);
  frame.writeUIntLE(100, 12, 3);
  const animation = riffChunk("ANIM", Buffer.alloc(6));
  return webpOf(
    vp8x(0x02, canvas.width, canvas.height),
    animation,
    riffChunk("ANMF", Buffer.concat([frame, losslessBitstream()])),
  );
}
interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}
/**
 * A GIF of a `screen`-sized screen (two colours) and `frames`, each of them the classic pixel's
 * one-pixel data (LZW code size `codeSize`, 2 unless told).
 */
function gifOf(screen: { width: number; height: number }, frames: Frame[], codeSize = 2): Buffer {
  const head = Buffer.from("GIF89a\0\0\0\0\x80\0\0\0\0\0\xff\xff\xff", "latin1");
  head.writeUInt16LE(screen.width, 6);
  head.writeUInt16LE(screen.height, 8);
  const images = frames.map(({ left, top, width, height }) => {
    const descriptor = Buffer.alloc(10);
    descriptor[0] = 0x2c;
    [left, top, width, height].forEach((value, i) => descriptor.writeUInt16LE(value, 1 + 2 * i));
    return Buffer.concat([descriptor, Buffer.from([codeSize, 0x02, 0x44, 0x01, 0x00])]);
  });
  return Buffer.concat([head, ...images, Buffer.from([0x3b])]);
}
const at0 = (width: number, height: number): Frame => ({ left: 0, top: 0, width, height });

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

test("an image over MEDIA_IMAGE_MAX_PIXELS (default 50,000,000) is TOO_MANY_PIXELS in every format", async () => {
  const jpeg = fixture("canvas.jpg");
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  const bombs: Array<[string, Buffer, number, number]> = [
    ["png", claimingPng(2 ** 31 - 1, 2 ** 31 - 1), 2 ** 31 - 1, 2 ** 31 - 1],
    ["jpeg", edited(edited(jpeg, sof + 5, 65_535, "be"), sof + 7, 65_535, "be"), 65_535, 65_535],
    ["gif", edited(edited(fixture("pixel.gif"), 6, 65_535, "le"), 8, 65_535, "le"), 65_535, 65_535],
    // An animation's canvas: its one frame is small.
    ["webp", animatedWebp({ width: 16_384, height: 16_384 }, 0, 0), 16_384, 16_384],
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

test("exactly MEDIA_IMAGE_MAX_PIXELS is accepted; one row more is refused", async () => {
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

test("no damage to a file makes the reading throw: every result is a size or a problem (never a 500)", async () => {
  const damaged = fc.record({
    name: fc.constantFrom(...FIXTURES.map(([name]) => name)),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
    cut: fc.nat(),
  });
  await fc.assert(
    fc.asyncProperty(damaged, async ({ name, flips, cut }) => {
      const bytes = Buffer.from(fixture(name));
      // The type's first bytes kept, as the sniffing that comes first requires them.
      for (const { at, value } of flips) bytes[12 + (at % (bytes.length - 12))] = value;
      const kept = bytes.subarray(0, Math.max(12, bytes.length - (cut % bytes.length)));
      const inspection = await inspectImage(kept, sniffImageType(kept)!);
      expect("problem" in inspection || (inspection.width > 0 && inspection.height > 0)).toBe(true);
    }),
    { numRuns: 3_000 },
  );
});

test("what a decoder draws larger than the header says is counted as drawn (from an outside attack)", async () => {
  // A GIF's frame larger than its screen: browsers grow the image to hold it.
  const gifBomb = await refusal(gifOf({ width: 1, height: 1 }, [at0(65_535, 65_535)]));
  expect(gifBomb.details).toEqual({
    field: "file",
    reason: "TOO_MANY_PIXELS",
    max: 50_000_000,
    width: 65_535,
    height: 65_535,
  });
  const grown = await upload(manager.token, gifOf({ width: 1, height: 1 }, [at0(8, 4)]), "grown.gif");
  expect([grown.status, grown.body.width, grown.body.height]).toEqual([201, 8, 4]);
  // A JPEG with a second frame header after its scan: some decoders take the first, some the last.
  const jpeg = fixture("canvas.jpg");
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  const frameHeader = jpeg.subarray(sof, sof + 2 + jpeg.readUInt16BE(sof + 2));
  const twoFrames = Buffer.concat([jpeg.subarray(0, jpeg.length - 2), frameHeader, jpeg.subarray(jpeg.length - 2)]);
  expect((await refusal(twoFrames)).details).toEqual({ field: "file", reason: "MALFORMED_IMAGE" });
  // An APNG frame outside its 1 × 1 image.
  const fctl = Buffer.alloc(26);
  fctl.writeUInt32BE(4_000, 4);
  fctl.writeUInt32BE(4_000, 8);
  const apng = pngOf(
    ihdr({ width: 1, height: 1 }),
    pngChunk("acTL", Buffer.alloc(8)),
    pngChunk("fcTL", fctl),
    idat(),
    iend(),
  );
  // A WebP whose canvas says 1 × 1 around a 3 × 2 bitstream, and an animation frame outside its canvas.
  const stillWebp = webpOf(vp8x(0, 1, 1), losslessBitstream());
  for (const bytes of [
    apng,
    stillWebp,
    animatedWebp({ width: 1, height: 1 }, 0, 0),
    animatedWebp({ width: 4, height: 4 }, 2, 2),
  ])
    expect((await refusal(bytes)).details).toEqual({ field: "file", reason: "MALFORMED_IMAGE" });
  const animated = await upload(manager.token, animatedWebp({ width: 3, height: 2 }, 0, 0), "animated.webp");
  expect([animated.status, animated.body.width, animated.body.height]).toEqual([201, 3, 2]);
});

test("a PNG header no decoder takes, a second IHDR, or a palette image without palette: MALFORMED_IMAGE", async () => {
  const one = { width: 1, height: 1 };
  const broken = [
    pngOf(ihdr(one, 3), idat(), iend()), // bit depth 3
    pngOf(ihdr(one, 8, 7), idat(), iend()), // colour type 7
    pngOf(ihdr(one), ihdr({ width: 8_000, height: 8_000 }), idat(), iend()),
    pngOf(ihdr(one, 8, 3), idat(), iend()),
  ];
  for (const bytes of broken)
    expect((await refusal(bytes)).details).toEqual({ field: "file", reason: "MALFORMED_IMAGE" });
  const withPalette = pngOf(ihdr(one, 8, 3), pngChunk("PLTE", Buffer.from([0xcc, 0, 0x33])), idat(), iend());
  expect((await upload(manager.token, withPalette, "palette.png")).status).toBe(201);
});

test("reading a file of many tiny chunks gives the event loop back while it goes", async () => {
  const text = pngChunk("tEXt", Buffer.alloc(0));
  const manyChunks = pngOf(ihdr({ width: 1, height: 1 }), ...Array(50_000).fill(text), idat(), iend());
  let done = false;
  let firedBeforeTheEnd: boolean | undefined;
  setImmediate(() => (firedBeforeTheEnd = !done));
  const inspection = await inspectImage(manyChunks, "image/png");
  done = true;
  expect(inspection).toEqual({ width: 1, height: 1 });
  expect(firedBeforeTheEnd).toBe(true);
});

/** The JPEG fixture with `segment` put before its first DQT, or its frame header edited by `edit`. */
function jpegWith(options: { segment?: Buffer; edit?: (frameHeader: Buffer) => void }): Buffer {
  const jpeg = Buffer.from(fixture("canvas.jpg"));
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  options.edit?.(jpeg.subarray(sof, sof + 2 + jpeg.readUInt16BE(sof + 2)));
  const dqt = jpeg.indexOf(Buffer.from([0xff, 0xdb]));
  return options.segment ? Buffer.concat([jpeg.subarray(0, dqt), options.segment, jpeg.subarray(dqt)]) : jpeg;
}

/** Uploads each case (what it is, its bytes, width, height) and expects it accepted with that size. */
async function expectAccepted(cases: Array<[string, Buffer, number, number]>): Promise<void> {
  for (const [what, bytes, width, height] of cases) {
    const response = await upload(manager.token, bytes, "accepted.img");
    expect({ what, status: response.status, size: [response.body.width, response.body.height] }).toEqual({
      what,
      status: 201,
      size: [width, height],
    });
  }
}

test("what libjpeg, libpng and browsers skip is accepted (from a second outside attack)", async () => {
  const one = { width: 1, height: 1 };
  const badAncillaryCrc = pngOf(ihdr(one), pngChunk("tEXt", Buffer.from("a\0b")), idat(), iend());
  badAncillaryCrc.writeUInt32BE(0, 8 + 25 + 8 + 3); // the tEXt chunk's CRC
  const accepted: Array<[string, Buffer, number, number]> = [
    ["stray bytes before a marker", jpegWith({ segment: Buffer.from([0, 0]) }), 3, 2],
    ["an ancillary chunk's wrong CRC", badAncillaryCrc, 1, 1],
    // Browsers grow the screen for the first frame only and clip later ones to it.
    [
      "a later frame outside the screen",
      gifOf({ width: 100, height: 100 }, [at0(1, 1), { ...at0(50, 50), left: 90, top: 90 }]),
      100,
      100,
    ],
  ];
  await expectAccepted(accepted);
});

test("structure no browser decodes is MALFORMED_IMAGE (from a second outside attack)", async () => {
  const one = { width: 1, height: 1 };
  const fctl = (width: number, height: number, dispose = 0) => {
    const data = Buffer.alloc(26);
    data.writeUInt32BE(width, 4);
    data.writeUInt32BE(height, 8);
    data[24] = dispose;
    return pngChunk("fcTL", data);
  };
  const actl = pngChunk("acTL", Buffer.alloc(8));
  const anim = riffChunk("ANIM", Buffer.alloc(6));
  const lossless = losslessBitstream();
  const version1 = Buffer.from(lossless);
  version1[8 + 4] = version1[8 + 4]! | 0x20; // bit 29 of the VP8L header: a version of 1
  const refused: Array<[string, Buffer]> = [
    ["JPEG: a lossless frame (SOF3)", jpegWith({ edit: (header) => void (header[1] = 0xc3) })],
    ["JPEG: 12-bit samples", jpegWith({ edit: (header) => void (header[4] = 12) })],
    ["JPEG: a reserved marker", jpegWith({ segment: Buffer.from([0xff, 0xf0, 0x00, 0x04, 0x61, 0x62]) })],
    ["PNG: an unknown critical chunk", pngOf(ihdr(one), pngChunk("ABCD", Buffer.alloc(0)), idat(), iend())],
    ["PNG: two palettes", pngOf(ihdr(one, 8, 3), ...Array(2).fill(pngChunk("PLTE", Buffer.alloc(3))), idat(), iend())],
    ["PNG: IDAT chunks apart", pngOf(ihdr(one), idat(), pngChunk("tEXt", Buffer.from("a\0b")), idat(), iend())],
    ["APNG: an unknown disposal", pngOf(ihdr(one), actl, fctl(1, 1, 7), idat(), iend())],
    [
      "APNG: a first frame smaller than the image",
      pngOf(ihdr({ width: 2, height: 2 }), actl, fctl(1, 1), idat(), iend()),
    ],
    [
      "WebP: frames without the animation flag",
      webpOf(vp8x(0, 3, 2), anim, riffChunk("ANMF", Buffer.concat([Buffer.alloc(16), lossless]))),
    ],
    ["WebP: the animation flag on a still image", webpOf(vp8x(0x02, 3, 2), lossless)],
    [
      "WebP: a lossless image with an alpha chunk",
      webpOf(vp8x(0x10, 3, 2), riffChunk("ALPH", Buffer.alloc(2)), lossless),
    ],
    ["WebP: a VP8L version other than 0", webpOf(version1)],
    ["GIF: an LZW code size of 12", gifOf(one, [at0(1, 1)], 12)],
  ];
  for (const [what, bytes] of refused)
    expect({ what, details: (await refusal(bytes)).details }).toEqual({
      what,
      details: { field: "file", reason: "MALFORMED_IMAGE" },
    });
});

/** EXIF data (a TIFF structure) whose first directory holds one entry: the orientation `value`. */
function exifOrientation(value: number, order: "MM" | "II" = "MM"): Buffer {
  const tiff = Buffer.alloc(26);
  const short = (at: number, v: number) => (order === "MM" ? tiff.writeUInt16BE(v, at) : tiff.writeUInt16LE(v, at));
  const long = (at: number, v: number) => (order === "MM" ? tiff.writeUInt32BE(v, at) : tiff.writeUInt32LE(v, at));
  tiff.write(order, 0, "latin1");
  short(2, 42);
  long(4, 8); // the first directory
  short(8, 1); // one entry: tag 0x0112, a SHORT, count 1, the value
  short(10, 0x0112);
  short(12, 3);
  long(14, 1);
  short(18, value);
  return tiff;
}
/** A JPEG APP1 segment of EXIF: "Exif\0", a byte (0 by the standard), then `tiff`. */
function exifSegment(tiff: Buffer, sixth = 0): Buffer {
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(2 + 6 + tiff.length, 2);
  return Buffer.concat([head, Buffer.from("Exif\0", "latin1"), Buffer.from([sixth]), tiff]);
}
/** The PNG fixture (3 × 2) with `chunks` after IHDR, or after its image data. */
function pngWith(chunks: Buffer[], where: "before data" | "after data" = "before data"): Buffer {
  const file = fixture("canvas.png");
  const at = where === "before data" ? 8 + 25 : file.length - 12;
  return Buffer.concat([file.subarray(0, at), ...chunks, file.subarray(at)]);
}

// Each case was laid out by Chromium 156 (an <img>'s naturalWidth × naturalHeight) when written, and
// 900 random variations of the orientation entry and its directory agreed with the reading.
test("width and height are as browsers lay the image out: swapped by an EXIF orientation of 5–8", async () => {
  const cases: Array<[string, Buffer, number, number]> = [
    ["JPEG, orientation 6", jpegWith({ segment: exifSegment(exifOrientation(6)) }), 2, 3],
    ["JPEG, orientation 8, little-endian", jpegWith({ segment: exifSegment(exifOrientation(8, "II")) }), 2, 3],
    ["JPEG, orientation 3 (half a turn)", jpegWith({ segment: exifSegment(exifOrientation(3)) }), 3, 2],
    ["JPEG, orientation 9 (none)", jpegWith({ segment: exifSegment(exifOrientation(9)) }), 3, 2],
    ["PNG eXIf, orientation 5", pngWith([pngChunk("eXIf", exifOrientation(5))]), 2, 3],
    ["PNG eXIf after the image data", pngWith([pngChunk("eXIf", exifOrientation(6))], "after data"), 3, 2],
  ];
  await expectAccepted(cases);
});

test("the first EXIF decides, read or not; a WebP's EXIF turns nothing; broken EXIF refuses nothing", async () => {
  const size = async (bytes: Buffer) => inspectImage(bytes, sniffImageType(bytes)!);
  const turned = { width: 2, height: 3 };
  const asStored = { width: 3, height: 2 };
  const [one, six] = [exifSegment(exifOrientation(1)), exifSegment(exifOrientation(6))];
  expect(await size(jpegWith({ segment: Buffer.concat([one, six]) }))).toEqual(asStored);
  const unreadable = exifSegment(Buffer.from("MM\0*"));
  expect(await size(jpegWith({ segment: Buffer.concat([unreadable, six]) }))).toEqual(asStored);
  // "Exif\0\0" and nothing more is not EXIF: the next segment is.
  const bare = exifSegment(Buffer.alloc(0));
  expect(await size(jpegWith({ segment: Buffer.concat([bare, six]) }))).toEqual(turned);
  // The sixth byte is not compared (found by an outside attack).
  expect(await size(jpegWith({ segment: exifSegment(exifOrientation(6), 0xff) }))).toEqual(turned);
  const oneOtherwise = exifSegment(exifOrientation(1), 0x45);
  expect(await size(jpegWith({ segment: Buffer.concat([oneOtherwise, six]) }))).toEqual(asStored);
  const [pngOne, pngSix] = [pngChunk("eXIf", exifOrientation(1)), pngChunk("eXIf", exifOrientation(6))];
  expect(await size(pngWith([pngOne, pngSix]))).toEqual(asStored);
  expect(await size(pngWith([pngSix, pngOne]))).toEqual(turned);
  // An eXIf chunk whose CRC is wrong is skipped, as any ancillary chunk.
  const wrongCrc = Buffer.from(pngSix);
  wrongCrc[wrongCrc.length - 1]! ^= 1;
  expect(await size(pngWith([wrongCrc]))).toEqual(asStored);
  const bitstream = losslessBitstream();
  const exif = riffChunk("EXIF", exifOrientation(6));
  const webp = webpOf(vp8x(0x08, 3, 2), bitstream, Buffer.alloc(bitstream.length % 2), exif);
  expect(await size(webp)).toEqual(asStored);
  // Any bytes at all after "Exif\0\0", or in an eXIf chunk: one of the two sizes, never a refusal.
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.nat(8), async (data, value) => {
      const tiff = Buffer.concat([exifOrientation(value, data[0]! % 2 ? "II" : "MM").subarray(0, data.length), data]);
      for (const bytes of [jpegWith({ segment: exifSegment(tiff) }), pngWith([pngChunk("eXIf", tiff)])])
        expect([asStored, turned]).toContainEqual(await size(bytes));
    }),
    { numRuns: 500 },
  );
});

test("a JPEG of over 1,000 APP1 and APP2 segments is malformed: browsers slow down with their square", async () => {
  const empty = (marker: number) => Buffer.from([0xff, marker, 0, 2]);
  const many = (count: number, marker?: number) =>
    jpegWith({
      segment: Buffer.concat(Array.from({ length: count }, (_, i) => empty(marker ?? (i % 2 ? 0xe1 : 0xe2)))),
    });
  // (Read here rather than uploaded: this suite's uploads are of at most 4 KiB.) The fixture has one
  // APP2 segment of its own, its ICC profile.
  expect(await inspectImage(many(999), "image/jpeg")).toEqual({ width: 3, height: 2 });
  expect(await inspectImage(many(1000), "image/jpeg")).toEqual({
    problem: "it has more than 1000 APP1 and APP2 segments",
  });
  // Browsers do not keep other segments, which cost nothing more each.
  expect(await inspectImage(many(5000, 0xee), "image/jpeg")).toEqual({ width: 3, height: 2 });
});

test("an animation of more than 10,000 frames is malformed: browsers walk every frame as they load", async () => {
  const gif = (frames: number) => gifOf({ width: 1, height: 1 }, Array(frames).fill(at0(1, 1)));
  expect(await inspectImage(gif(10_000), "image/gif")).toEqual({ width: 1, height: 1 });
  expect(await inspectImage(gif(10_001), "image/gif")).toEqual({ problem: "it has more than 10000 frames" });
  const one = { width: 1, height: 1 };
  const fctl = pngChunk("fcTL", Buffer.from([...Array(4).fill(0), 0, 0, 0, 1, 0, 0, 0, 1, ...Array(14).fill(0)]));
  const apng = (frames: number) =>
    pngOf(ihdr(one), pngChunk("acTL", Buffer.alloc(8)), fctl, idat(), ...Array(frames - 1).fill(fctl), iend());
  expect(await inspectImage(apng(10_000), "image/png")).toEqual(one);
  expect(await inspectImage(apng(10_001), "image/png")).toEqual({ problem: "it has more than 10000 frames" });
});
