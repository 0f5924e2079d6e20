/**
 * Reads an uploaded image's structure, never its pixels: the container of each accepted type walked
 * from its first byte to its end marker, with the size the image declares. Nothing is decoded or
 * decompressed, so a file of IMAGE_MAX_BYTES costs one pass over its bytes.
 *
 * What it finds:
 * - a file cut short (it ends before PNG's IEND, JPEG's EOI, GIF's trailer or WebP's RIFF length),
 *   or whose structure is broken (a PNG chunk whose CRC is wrong or header values no decoder takes,
 *   a segment or block running past the end, a first chunk that is not the header, a second frame
 *   header, a frame outside its canvas, no image data): the problem, in words;
 * - otherwise the size a decoder makes the image: PNG's header, JPEG's one frame header, a GIF's
 *   screen grown to hold every frame (browsers grow it), a WebP's canvas (its bitstreams and frames
 *   inside it) — so that an image claiming 2³¹ × 2³¹ pixels (a "decompression bomb" for whoever
 *   renders it) can be refused by its pixel count. Every frame of an animation fits in that size.
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
 * PNG (RFC 2083, and APNG's fcTL): one IHDR first with values a decoder takes, every chunk's CRC
 * right, a palette before the data of a palette image, each animation frame inside the image, at
 * least one IDAT, up to IEND.
 */
function* walkPng(bytes: Buffer, pace: Pace): Walk {
  let offset = 8;
  let header: (Size & { colorType: number }) | undefined;
  let palette = false;
  let data = false;
  for (;;) {
    if (pace.due()) yield;
    within(bytes, offset, 12, "it ends before its IEND chunk");
    const length = bytes.readUInt32BE(offset);
    const name = bytes.toString("latin1", offset + 4, offset + 8);
    check(length < 2 ** 31 && /^[A-Za-z]{4}$/.test(name), "a PNG chunk header is not valid");
    within(bytes, offset + 12, length, `it ends inside its ${name} chunk`);
    const crc = bytes.readUInt32BE(offset + 8 + length);
    check(crc32(bytes.subarray(offset + 4, offset + 8 + length)) === crc, `its ${name} chunk's CRC is wrong`);
    const at = offset + 8;
    if (header === undefined) {
      check(name === "IHDR" && length === 13, "its first chunk is not IHDR");
      header = pngHeader(bytes, at);
    } else if (name === "IHDR") {
      check(false, "it has a second IHDR chunk");
    } else if (name === "PLTE") {
      palette = true;
    } else if (name === "fcTL") {
      check(length === 26, "an fcTL chunk is not valid");
      // Sequence number, width, height, x and y offsets, …
      const field = (index: number) => bytes.readUInt32BE(at + 4 * index);
      check(field(1) > 0 && field(2) > 0, "an animation frame has a width or height of 0");
      inside(header, field(3), field(4), field(1), field(2), "an animation frame");
    } else if (name === "IDAT") {
      check(header.colorType !== 3 || palette, "its palette (PLTE) is missing");
      data = true;
    } else if (name === "IEND") {
      check(data, "it has no IDAT chunk");
      return { width: header.width, height: header.height };
    }
    offset += 12 + length;
  }
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

/** The start-of-frame markers, whose segments carry the size: SOF0–SOF15 but DHT, JPG and DAC. */
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * JPEG (ITU T.81): segments from SOI, one start of frame before the first scan (a second one, which
 * some decoders take and others ignore, is refused), the entropy-coded data of each scan skipped to
 * its next marker, up to EOI.
 */
function* walkJpeg(bytes: Buffer, pace: Pace): Walk {
  let offset = 2;
  let frame: Size | undefined;
  let scanned = false;
  for (;;) {
    if (pace.due()) yield;
    within(bytes, offset, 2, "it ends before its EOI marker");
    check(bytes[offset] === 0xff, "a JPEG marker is missing where one must be");
    // Fill bytes (0xFF) may precede a marker.
    while (bytes[offset + 1] === 0xff) offset += 1;
    within(bytes, offset, 2, "it ends before its EOI marker");
    const marker = bytes[offset + 1]!;
    offset += 2;
    if (marker === 0xd9) {
      check(frame !== undefined && scanned, "it has no image data");
      return frame;
    }
    // Markers without a segment: RST0–RST7 and TEM. A second SOI is not a JPEG of ours.
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    check(marker !== 0xd8 && marker !== 0x00, "a JPEG marker is not valid");
    within(bytes, offset, 2, "it ends before its EOI marker");
    const length = bytes.readUInt16BE(offset);
    check(length >= 2, "a JPEG segment length is not valid");
    within(bytes, offset, length, "it ends before its EOI marker");
    if (isStartOfFrame(marker)) {
      check(frame === undefined, "it has a second frame header");
      check(length >= 8, "its frame header is too short");
      frame = { height: bytes.readUInt16BE(offset + 3), width: bytes.readUInt16BE(offset + 5) };
    }
    offset += length;
    if (marker === 0xda) {
      check(frame !== undefined, "a scan comes before the frame header");
      scanned = true;
      offset = yield* endOfScan(bytes, offset, pace);
    }
  }
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
 * The size is the screen's, grown to hold every frame: browsers show a first frame larger than the
 * screen whole.
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
      within(bytes, offset, 11, "it ends inside an image descriptor");
      const left = bytes.readUInt16LE(offset + 1);
      const top = bytes.readUInt16LE(offset + 3);
      size.width = Math.max(size.width, left + bytes.readUInt16LE(offset + 5));
      size.height = Math.max(size.height, top + bytes.readUInt16LE(offset + 7));
      offset += 10 + colorTableSize(bytes[offset + 9]!) + 1; // descriptor, local table, LZW code size
      images += 1;
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
function* riffChunks(bytes: Buffer, offset: number, end: number, pace: Pace): Generator<RiffChunk | undefined> {
  while (offset < end) {
    if (pace.due()) yield undefined;
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
 * WebP: the RIFF container whole (its declared length present), chunks inside it. A simple file is
 * one VP8 (lossy) or VP8L (lossless) bitstream; an extended one (VP8X) declares a canvas, and then
 * a still image's bitstream must be the canvas's size and each animation frame (ANMF) must lie
 * inside it, its bitstream the frame's size.
 */
function* walkWebp(bytes: Buffer, pace: Pace): Walk {
  const end = 8 + bytes.readUInt32LE(4);
  within(bytes, 0, end, "it is shorter than its RIFF header declares");
  let canvas: Size | undefined;
  let extended = false;
  let images = 0;
  for (const chunk of riffChunks(bytes, 12, end, pace)) {
    if (!chunk) {
      yield;
      continue;
    }
    const { name, data, length } = chunk;
    if (canvas === undefined) {
      check(name === "VP8 " || name === "VP8L" || name === "VP8X", "its first chunk is not VP8, VP8L or VP8X");
      extended = name === "VP8X";
      check(!extended || length >= 10, "its VP8X chunk is not valid");
      canvas = extended
        ? { width: bytes.readUIntLE(data + 4, 3) + 1, height: bytes.readUIntLE(data + 7, 3) + 1 }
        : bitstreamSize(bytes, chunk);
      if (!extended) images += 1;
    } else if (name === "VP8 " || name === "VP8L") {
      check(extended && images === 0, "it has a second image bitstream");
      const size = bitstreamSize(bytes, chunk);
      check(size.width === canvas.width && size.height === canvas.height, "its image is not the canvas's size");
      images += 1;
    } else if (name === "ANMF") {
      check(extended && length >= 16, "an ANMF chunk is not valid");
      const frame = { width: bytes.readUIntLE(data + 6, 3) + 1, height: bytes.readUIntLE(data + 9, 3) + 1 };
      const [left, top] = [2 * bytes.readUIntLE(data, 3), 2 * bytes.readUIntLE(data + 3, 3)];
      inside(canvas, left, top, frame.width, frame.height, "an animation frame");
      for (const inner of riffChunks(bytes, data + 16, data + length, pace)) {
        if (!inner) yield;
        if (!inner || (inner.name !== "VP8 " && inner.name !== "VP8L")) continue;
        const size = bitstreamSize(bytes, inner);
        check(size.width === frame.width && size.height === frame.height, "a frame's image is not the frame's size");
      }
      images += 1;
    }
  }
  check(canvas !== undefined && images > 0, "it has no image data");
  return canvas;
}

/** The size in a VP8 (lossy: its key frame header) or VP8L (lossless: its header) bitstream. */
function bitstreamSize(bytes: Buffer, { name, data, length }: RiffChunk): Size {
  if (name === "VP8 ") {
    check(length >= 10 && bytes.readUIntBE(data + 3, 3) === 0x9d012a, "its VP8 frame header is not valid");
    return { width: bytes.readUInt16LE(data + 6) & 0x3fff, height: bytes.readUInt16LE(data + 8) & 0x3fff };
  }
  check(length >= 5 && bytes[data] === 0x2f, "its VP8L header is not valid");
  const bits = bytes.readUInt32LE(data + 1);
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
}
