/**
 * Reads an uploaded image's structure, never its pixels: the container of each accepted type walked
 * from its first byte to its end marker, with the size the image declares. Nothing is decoded or
 * decompressed, so a file of IMAGE_MAX_BYTES costs one pass over its bytes.
 *
 * What it finds:
 * - a file cut short (it ends before PNG's IEND, JPEG's EOI, GIF's trailer or WebP's RIFF length),
 *   or whose structure is broken (a critical PNG chunk whose CRC is wrong, header values no decoder
 *   takes, a segment or block running past the end, a first chunk that is not the header, a second
 *   frame header, a frame outside its canvas, no image data): the problem, in words;
 * - otherwise the size a decoder makes the image: PNG's header, JPEG's one frame header, a GIF's
 *   screen grown to hold its first frame (browsers grow it), a WebP's canvas (its bitstreams and
 *   frames inside it) — so that an image claiming 2³¹ × 2³¹ pixels (a "decompression bomb" for whoever
 *   renders it) can be refused by its pixel count. Every frame of an animation fits in that size.
 *   Width and height are as browsers lay the image out: swapped when its EXIF orientation turns it a
 *   quarter (JPEG's first Exif APP1 segment before the first scan, PNG's first eXIf chunk before the
 *   image data; browsers ignore a WebP's EXIF for this).
 *
 * Bytes after the end marker are allowed, as every browser allows them (cameras append data there).
 *
 * The walk gives the event loop back every few thousand steps: a file of tiny chunks costs ~20 times
 * the CPU per byte of an ordinary one (about 0.1 s for 5 MiB), and other requests must not wait for it.
 */
import { crc32 } from "node:zlib";
import type { ImageType } from "./sniff.ts";

export interface Size {
  width: number;
  height: number;
}
export type Inspection = Size | { problem: string };

/** A walk over a file: yields when it has taken STEPS_PER_SLICE steps, returns the size or throws Malformed. */
type Walk = Generator<void, Size, void>;

const STEPS_PER_SLICE = 4096;

/** The structure of `bytes`, already sniffed as `type`. */
export async function inspectImage(bytes: Buffer, type: ImageType): Promise<Inspection> {
  const walk = WALKS[type](bytes, new Pace());
  try {
    for (let step = walk.next(); ; step = walk.next()) {
      if (step.done) return sized(step.value);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    if (error instanceof Malformed) return { problem: error.message };
    throw error;
  }
}

/** Counts a walk's steps: `due()` is true once every STEPS_PER_SLICE calls (then the walk yields). */
class Pace {
  #steps = 0;
  due(): boolean {
    return ++this.#steps % STEPS_PER_SLICE === 0;
  }
}

class Malformed extends Error {}

/** Throws Malformed with `problem` unless `condition` holds. */
function check(condition: boolean, problem: string): asserts condition {
  if (!condition) throw new Malformed(problem);
}

/** Checks that `length` bytes from `offset` are inside `bytes`: a file cut short where `it ends` otherwise. */
function within(bytes: Buffer, offset: number, length: number, itEnds: string): void {
  check(offset + length <= bytes.length, `the file is cut short: ${itEnds}`);
}

function sized(size: Size): Size {
  check(size.width > 0 && size.height > 0, "it declares a width or height of 0");
  return size;
}

const sameSize = (a: Size, b: Size) => a.width === b.width && a.height === b.height;

/**
 * The orientation EXIF data (a TIFF structure) gives: tag 0x0112 of its first directory, a SHORT
 * of count 1, as Chromium reads it; undefined when it has none or cannot be read (the image is
 * shown as stored). EXIF is never a reason to refuse a file: browsers ignore what they cannot read.
 */
function exifOrientation(tiff: Buffer): number | undefined {
  const order = tiff.toString("latin1", 0, 2);
  if (tiff.length < 8 || (order !== "II" && order !== "MM")) return undefined;
  const big = order === "MM";
  const short = (at: number) => (big ? tiff.readUInt16BE(at) : tiff.readUInt16LE(at));
  const long = (at: number) => (big ? tiff.readUInt32BE(at) : tiff.readUInt32LE(at));
  if (short(2) !== 42) return undefined;
  const directory = long(4);
  if (directory + 2 > tiff.length) return undefined;
  const entries = short(directory);
  for (let at = directory + 2; at < directory + 2 + 12 * entries && at + 12 <= tiff.length; at += 12)
    if (short(at) === 0x0112 && short(at + 2) === 3 && long(at + 4) === 1) return short(at + 8);
  return undefined;
}

/**
 * The size as laid out, given the image's EXIF data if it has any: orientations 5–8 turn the image a
 * quarter, so width and height swap.
 */
function oriented({ width, height }: Size, exif: Buffer | undefined): Size {
  const orientation = exif && exifOrientation(exif);
  return orientation !== undefined && orientation >= 5 && orientation <= 8
    ? { width: height, height: width }
    : { width, height };
}

/**
 * The most frames an animation (GIF, APNG, WebP) may have: about six minutes at 30 frames a second.
 * Chromium walks every frame of a file as it loads it: 340,000 one-pixel GIF frames (5 MB) took it
 * over a second (found by an outside attack).
 */
const MAX_FRAMES = 10_000;

/** Checks that an animation's `count`-th frame is within MAX_FRAMES. */
function frameCounted(count: number): void {
  check(count <= MAX_FRAMES, `it has more than ${MAX_FRAMES} frames`);
}

/** Checks that a frame at (`left`, `top`) of `width` × `height` lies inside `canvas`. */
function inside(canvas: Size, left: number, top: number, width: number, height: number, what: string): void {
  check(left + width <= canvas.width && top + height <= canvas.height, `${what} lies outside the image's size`);
}

const WALKS: Record<ImageType, (bytes: Buffer, pace: Pace) => Walk> = {
  "image/png": walkPng,
  "image/jpeg": walkJpeg,
  "image/gif": walkGif,
  "image/webp": walkWebp,
};

/** Bit depths each PNG colour type allows (PNG §11.2.2): greyscale, RGB, palette, grey + alpha, RGBA. */
const PNG_DEPTHS: ReadonlyMap<number, readonly number[]> = new Map([
  [0, [1, 2, 4, 8, 16]],
  [2, [8, 16]],
  [3, [1, 2, 4, 8]],
  [4, [8, 16]],
  [6, [8, 16]],
]);

/**
 * PNG (RFC 2083, and APNG's fcTL), as libpng reads it: one IHDR first with values a decoder takes;
 * a critical chunk (its name's first letter upper case) must be one of the four and have a right
 * CRC, while an ancillary chunk whose CRC is wrong is skipped, unread, as libpng skips it; one
 * palette, before the data of a palette image; the IDAT chunks in one run, at least one; each
 * animation frame inside the image (the one before the data the image's own size), its disposal
 * and blending known; up to IEND.
 */
function* walkPng(bytes: Buffer, pace: Pace): Walk {
  let offset = 8;
  let header: (Size & { colorType: number }) | undefined;
  let palette = false;
  let data: "none" | "in" | "after" = "none";
  let exif: Buffer | undefined;
  let frames = 0;
  for (;;) {
    if (pace.due()) yield;
    within(bytes, offset, 12, "it ends before its IEND chunk");
    const length = bytes.readUInt32BE(offset);
    const name = bytes.toString("latin1", offset + 4, offset + 8);
    check(length < 2 ** 31 && /^[A-Za-z]{4}$/.test(name), "a PNG chunk header is not valid");
    within(bytes, offset + 12, length, `it ends inside its ${name} chunk`);
    const at = offset + 8;
    offset += 12 + length;
    const critical = name.charCodeAt(0) < 0x61;
    if (crc32(bytes.subarray(at - 4, at + length)) !== bytes.readUInt32BE(at + length)) {
      check(!critical, `its ${name} chunk's CRC is wrong`);
      continue;
    }
    if (data === "in" && name !== "IDAT") data = "after";
    if (header === undefined) {
      check(name === "IHDR" && length === 13, "its first chunk is not IHDR");
      header = pngHeader(bytes, at);
    } else if (name === "IHDR") {
      check(false, "it has a second IHDR chunk");
    } else if (name === "PLTE") {
      check(!palette && data === "none", "its palette (PLTE) is repeated or after the image data");
      palette = true;
    } else if (name === "IDAT") {
      check(header.colorType !== 3 || palette, "its palette (PLTE) is missing");
      check(data !== "after", "its IDAT chunks are not one after another");
      data = "in";
    } else if (name === "IEND") {
      check(data !== "none", "it has no IDAT chunk");
      return oriented(header, exif);
    } else if (name === "fcTL") {
      frameCounted(++frames);
      animationFrame(bytes, at, length, header, data === "none");
    } else if (name === "eXIf") {
      // The first one before the image data counts (its CRC right); later ones are not read.
      if (data === "none" && exif === undefined) exif = bytes.subarray(at, at + length);
    } else {
      check(!critical, `it has a critical chunk (${name}) no decoder knows`);
    }
  }
}

/** An APNG frame (fcTL): inside the image, its size exactly when it precedes the image data. */
function animationFrame(bytes: Buffer, at: number, length: number, image: Size, first: boolean): void {
  check(length === 26, "an fcTL chunk is not valid");
  // Sequence number, width, height, x and y offsets (32 bits each), delay (16 + 16), dispose, blend.
  const field = (index: number) => bytes.readUInt32BE(at + 4 * index);
  const [width, height, left, top] = [field(1), field(2), field(3), field(4)];
  check(width > 0 && height > 0, "an animation frame has a width or height of 0");
  inside(image, left, top, width, height, "an animation frame");
  check(!first || sameSize({ width, height }, image), "its first frame is not the image's size");
  check(bytes[at + 24]! <= 2 && bytes[at + 25]! <= 1, "an animation frame's disposal or blending is not valid");
}

function pngHeader(bytes: Buffer, at: number): Size & { colorType: number } {
  const width = bytes.readUInt32BE(at);
  const height = bytes.readUInt32BE(at + 4);
  const [depth, colorType, compression, filter, interlace] = bytes.subarray(at + 8, at + 13);
  check(width < 2 ** 31 && height < 2 ** 31, "its IHDR size is not valid");
  check(PNG_DEPTHS.get(colorType!)?.includes(depth!) === true, "its IHDR colour type or bit depth is not valid");
  check(compression === 0 && filter === 0 && interlace! <= 1, "its IHDR methods are not valid");
  return { width, height, colorType: colorType! };
}

/** Frame kinds browsers decode: baseline, extended, progressive; the last two arithmetic-coded too. */
const DECODED_FRAMES: ReadonlySet<number> = new Set([0xc0, 0xc1, 0xc2, 0xc9, 0xca]);
/** The other frame kinds: lossless, and hierarchical (differential). */
const OTHER_FRAMES: ReadonlySet<number> = new Set([0xc3, 0xc5, 0xc6, 0xc7, 0xcb, 0xcd, 0xce, 0xcf]);
/**
 * The most APP1 and APP2 segments (EXIF, XMP, ICC profiles) a JPEG may have. Chromium keeps each
 * in a list that it walks to the end to add the next, so their cost grows with their square: 20,000
 * empty ones (80 KB) took it a second to lay out, 200,000 froze it. A real file has at most a few
 * hundred (an ICC profile is cut into at most 255).
 */
const MAX_KEPT_SEGMENTS = 1000;

/** What an APP1 segment of EXIF begins with (then one more byte, and the TIFF data). */
const EXIF = "Exif\0";

/** Markers with a segment that a decoder reads or skips: DHT, DAC, SOS, DQT, DNL, DRI, APP0–15, COM. */
const isKnownSegment = (marker: number) =>
  [0xc4, 0xcc, 0xda, 0xdb, 0xdc, 0xdd, 0xfe].includes(marker) || (marker >= 0xe0 && marker <= 0xef);

/**
 * JPEG (ITU T.81), as libjpeg reads it: segments from SOI, each of a kind a decoder knows; exactly
 * one frame header, of a kind browsers decode (8-bit samples, 1, 3 or 4 components), before the
 * first scan (a second one, which some decoders take and others ignore, is refused); the
 * entropy-coded data of each scan skipped to its next marker; up to EOI. Bytes that are not a
 * marker where one is due are skipped, as libjpeg skips them (with a warning).
 */
function* walkJpeg(bytes: Buffer, pace: Pace): Walk {
  let offset = 2;
  let frame: Size | undefined;
  let scanned = false;
  let exif: Buffer | undefined;
  let kept = 0;
  for (;;) {
    if (pace.due()) yield;
    offset = bytes.indexOf(0xff, offset);
    check(offset !== -1, "the file is cut short: it ends before its EOI marker");
    // Fill bytes (0xFF) may precede a marker.
    while (bytes[offset + 1] === 0xff) offset += 1;
    within(bytes, offset, 2, "it ends before its EOI marker");
    const marker = bytes[offset + 1]!;
    offset += 2;
    if (marker === 0xd9) {
      check(frame !== undefined && scanned, "it has no image data");
      return oriented(frame, exif);
    }
    // Markers without a segment: RST0–RST7 and TEM.
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    check(!OTHER_FRAMES.has(marker), "it is a lossless or hierarchical JPEG, which browsers do not decode");
    check(DECODED_FRAMES.has(marker) || isKnownSegment(marker), "it has a JPEG marker no decoder knows");
    within(bytes, offset, 2, "it ends before its EOI marker");
    const length = bytes.readUInt16BE(offset);
    check(length >= 2, "a JPEG segment length is not valid");
    within(bytes, offset, length, "it ends before its EOI marker");
    if (DECODED_FRAMES.has(marker)) {
      check(frame === undefined, "it has a second frame header");
      frame = frameHeader(bytes, offset, length);
    }
    // The first APP1 segment of EXIF before the first scan says how the image is turned, whatever
    // it holds; later ones are not read (libjpeg keeps the markers it meets before the first scan).
    if (marker === 0xe1 || marker === 0xe2)
      check(++kept <= MAX_KEPT_SEGMENTS, `it has more than ${MAX_KEPT_SEGMENTS} APP1 and APP2 segments`);
    if (marker === 0xe1 && !scanned && exif === undefined) {
      const segment = bytes.subarray(offset + 2, offset + length);
      // "Exif\0" and a sixth byte, which Chromium does not compare (it is 0 by the standard), then
      // the TIFF data; the six bytes alone are not EXIF (Chromium reads past them to the next).
      if (segment.length > 6 && segment.toString("latin1", 0, 5) === EXIF) exif = segment.subarray(6);
    }
    offset += length;
    if (marker === 0xda) {
      check(frame !== undefined, "a scan comes before the frame header");
      scanned = true;
      offset = yield* endOfScan(bytes, offset, pace);
    }
  }
}

/** A JPEG frame header's size: its segment from its length field at `offset`. */
function frameHeader(bytes: Buffer, offset: number, length: number): Size {
  check(length >= 8, "its frame header is too short");
  const components = bytes[offset + 7]!;
  check(bytes[offset + 2] === 8, "its samples are not of 8 bits, which browsers decode");
  check([1, 3, 4].includes(components) && length === 8 + 3 * components, "its frame header is not valid");
  return { height: bytes.readUInt16BE(offset + 3), width: bytes.readUInt16BE(offset + 5) };
}

/** The offset of the marker that ends the entropy-coded data from `offset` (0xFF 0x00 and RSTn are data). */
function* endOfScan(bytes: Buffer, offset: number, pace: Pace): Generator<void, number, void> {
  for (let at = bytes.indexOf(0xff, offset); at !== -1; at = bytes.indexOf(0xff, at + 1)) {
    if (pace.due()) yield;
    const next = bytes[at + 1];
    if (next === undefined) break;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) continue;
    if (next === 0xff) continue; // fill: the marker follows
    return at;
  }
  throw new Malformed("the file is cut short: it ends inside its image data, before its EOI marker");
}

/**
 * GIF (87a, 89a): the screen descriptor, then images and extensions as blocks, up to the trailer.
 * The size is the screen's, grown to hold the first frame, as browsers grow it.
 */
function* walkGif(bytes: Buffer, pace: Pace): Walk {
  within(bytes, 6, 7, "it ends inside its screen descriptor");
  const size = { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  let offset = 13 + colorTableSize(bytes[10]!);
  let images = 0;
  for (;;) {
    if (pace.due()) yield;
    within(bytes, offset, 1, "it ends before its trailer");
    const introducer = bytes[offset]!;
    if (introducer === 0x3b) {
      check(images > 0, "it has no image");
      return size;
    }
    if (introducer === 0x2c) {
      within(bytes, offset, 10, "it ends inside an image descriptor");
      if (images === 0) {
        // Browsers grow the screen to hold the first frame; later frames are clipped to it.
        size.width = Math.max(size.width, bytes.readUInt16LE(offset + 1) + bytes.readUInt16LE(offset + 5));
        size.height = Math.max(size.height, bytes.readUInt16LE(offset + 3) + bytes.readUInt16LE(offset + 7));
      }
      offset += 10 + colorTableSize(bytes[offset + 9]!); // the descriptor, then its local colour table
      within(bytes, offset, 1, "it ends before its trailer");
      // LZW codes are at most 12 bits long: the first code's size is the minimum's plus one.
      check(bytes[offset]! <= 11, "an image's LZW code size is not valid");
      offset += 1;
      frameCounted(++images);
    } else {
      check(introducer === 0x21, "a GIF block is not valid");
      offset += 2; // introducer and label
    }
    offset = yield* afterSubBlocks(bytes, offset, pace);
  }
}

/** Bytes of the colour table a GIF descriptor's packed field announces (0 when it has none). */
const colorTableSize = (packed: number) => (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0);

/** The offset after a chain of GIF data sub-blocks (each a length byte, then that many bytes; 0 ends). */
function* afterSubBlocks(bytes: Buffer, offset: number, pace: Pace): Generator<void, number, void> {
  for (;;) {
    if (pace.due()) yield;
    within(bytes, offset, 1, "it ends before its trailer");
    const length = bytes[offset]!;
    offset += 1;
    if (length === 0) return offset;
    within(bytes, offset, length, "it ends before its trailer");
    offset += length;
  }
}

/** A RIFF chunk of a WebP: its name and where its data lies. */
interface RiffChunk {
  name: string;
  data: number;
  length: number;
}

/** The chunks between `offset` and `end`, each inside them (padded to an even length). */
function* riffChunks(bytes: Buffer, offset: number, end: number): Generator<RiffChunk> {
  while (offset < end) {
    check(offset + 8 <= end, "a chunk header runs past its container");
    const name = bytes.toString("latin1", offset, offset + 4);
    const length = bytes.readUInt32LE(offset + 4);
    const data = offset + 8;
    check(data + length <= end, `its ${name.trim()} chunk runs past its container`);
    yield { name, data, length };
    offset = data + length + (length % 2);
  }
}

/**
 * WebP, as libwebp reads it: the RIFF container whole (its declared length present), chunks inside
 * it. A simple file is one VP8 (lossy) or VP8L (lossless) bitstream. An extended one (VP8X)
 * declares a canvas: without its animation flag it holds one bitstream of the canvas's size; with
 * it, an ANIM chunk, then frames (ANMF), each inside the canvas and holding one bitstream of the
 * frame's size. Metadata chunks (ICCP, EXIF, XMP, unknown ones) are skipped.
 */
function* walkWebp(bytes: Buffer, pace: Pace): Walk {
  const end = 8 + bytes.readUInt32LE(4);
  within(bytes, 0, end, "it is shorter than its RIFF header declares");
  check(end >= 20, "it has no image data");
  const name = bytes.toString("latin1", 12, 16);
  check(name === "VP8 " || name === "VP8L" || name === "VP8X", "its first chunk is not VP8, VP8L or VP8X");
  if (name !== "VP8X") return yield* oneImage(bytes, 12, end, pace);
  const length = bytes.readUInt32LE(16);
  check(length >= 10 && 20 + length <= end, "its VP8X chunk is not valid");
  const canvas = { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  const next = 20 + length + (length % 2);
  if ((bytes[20]! & 0x02) === 0) {
    const size = yield* oneImage(bytes, next, end, pace);
    check(sameSize(size, canvas), "its image is not the canvas's size");
    return canvas;
  }
  let animation = false;
  let frames = 0;
  for (const chunk of riffChunks(bytes, next, end)) {
    if (pace.due()) yield;
    check(!IMAGE_CHUNKS.has(chunk.name), "its animation has a still image's chunk outside its frames");
    if (chunk.name === "ANIM") animation = true;
    if (chunk.name !== "ANMF") continue;
    const { data, length: frameLength } = chunk;
    check(animation && frameLength >= 16, "an ANMF chunk is not valid or comes before ANIM");
    const frame = { width: bytes.readUIntLE(data + 6, 3) + 1, height: bytes.readUIntLE(data + 9, 3) + 1 };
    const [left, top] = [2 * bytes.readUIntLE(data, 3), 2 * bytes.readUIntLE(data + 3, 3)];
    inside(canvas, left, top, frame.width, frame.height, "an animation frame");
    const size = yield* oneImage(bytes, data + 16, data + frameLength, pace);
    check(sameSize(size, frame), "a frame's image is not the frame's size");
    frameCounted(++frames);
  }
  check(frames > 0, "its animation has no frame");
  return canvas;
}

/** The chunks of one WebP image: its bitstream and the alpha of a lossy one. */
const IMAGE_CHUNKS: ReadonlySet<string> = new Set(["VP8 ", "VP8L", "ALPH"]);

/**
 * The size of the one image whose chunks lie between `offset` and `end` (a file's, or a frame's):
 * exactly one bitstream, an ALPH chunk only before a lossy one, no chunk of the extended format's
 * structure (VP8X, ANIM, ANMF).
 */
function* oneImage(bytes: Buffer, offset: number, end: number, pace: Pace): Generator<void, Size, void> {
  let size: Size | undefined;
  let alpha = false;
  for (const chunk of riffChunks(bytes, offset, end)) {
    if (pace.due()) yield;
    const { name } = chunk;
    check(name !== "VP8X" && name !== "ANIM" && name !== "ANMF", `its ${name} chunk is out of place`);
    if (name === "ALPH") alpha = true;
    if (name !== "VP8 " && name !== "VP8L") continue;
    check(size === undefined, "it has a second image bitstream");
    check(!alpha || name === "VP8 ", "its lossless image has an alpha chunk");
    size = bitstreamSize(bytes, chunk);
  }
  check(size !== undefined, "it has no image bitstream");
  return size;
}

/** The size in a VP8 (lossy: its key frame header) or VP8L (lossless: its header) bitstream. */
function bitstreamSize(bytes: Buffer, { name, data, length }: RiffChunk): Size {
  if (name === "VP8 ") {
    check(length >= 10 && bytes.readUIntBE(data + 3, 3) === 0x9d012a, "its VP8 frame header is not valid");
    // The frame tag: bit 0 clear for a key frame; bits 5–23 the first partition's size, inside the chunk.
    const tag = bytes.readUIntLE(data, 3);
    check((tag & 1) === 0 && 10 + (tag >>> 5) <= length, "its VP8 frame is not a whole key frame");
    return { width: bytes.readUInt16LE(data + 6) & 0x3fff, height: bytes.readUInt16LE(data + 8) & 0x3fff };
  }
  check(length >= 5 && bytes[data] === 0x2f, "its VP8L header is not valid");
  const bits = bytes.readUInt32LE(data + 1);
  check(bits >>> 29 === 0, "its VP8L version is not 0");
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
}
