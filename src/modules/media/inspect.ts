/**
 * Reads an uploaded image's structure, never its pixels: the container of each accepted type walked
 * from its first byte to its end marker, with the size the image declares. Nothing is decoded or
 * decompressed, so a file of IMAGE_MAX_BYTES costs one pass over its bytes.
 *
 * What it finds:
 * - a file cut short (it ends before PNG's IEND, JPEG's EOI, GIF's trailer or WebP's RIFF length),
 *   or whose structure is broken (a PNG chunk whose CRC is wrong, a segment or block running past
 *   the end, a first chunk that is not the header, no image data): the problem, in words;
 * - otherwise the declared width and height, so that an image claiming 2³¹ × 2³¹ pixels (a
 *   "decompression bomb" for whoever renders it) can be refused by its pixel count.
 *
 * Bytes after the end marker are allowed, as every browser allows them (cameras append data there).
 */
import { crc32 } from "node:zlib";
import type { ImageType } from "./sniff.ts";

export type Inspection = { width: number; height: number } | { problem: string };

/** The structure of `bytes`, already sniffed as `type`. */
export function inspectImage(bytes: Buffer, type: ImageType): Inspection {
  try {
    switch (type) {
      case "image/png":
        return inspectPng(bytes);
      case "image/jpeg":
        return inspectJpeg(bytes);
      case "image/gif":
        return inspectGif(bytes);
      case "image/webp":
        return inspectWebp(bytes);
    }
  } catch (error) {
    if (error instanceof Malformed) return { problem: error.message };
    throw error;
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

function sized(width: number, height: number): Inspection {
  check(width > 0 && height > 0, "it declares a width or height of 0");
  return { width, height };
}

/** PNG (RFC 2083): IHDR first, every chunk's CRC right, at least one IDAT, up to IEND. */
function inspectPng(bytes: Buffer): Inspection {
  let offset = 8;
  let header: { width: number; height: number } | undefined;
  let hasData = false;
  for (;;) {
    within(bytes, offset, 12, "it ends before its IEND chunk");
    const length = bytes.readUInt32BE(offset);
    const name = bytes.toString("latin1", offset + 4, offset + 8);
    check(length < 2 ** 31 && /^[A-Za-z]{4}$/.test(name), "a PNG chunk header is not valid");
    within(bytes, offset + 12, length, `it ends inside its ${name} chunk`);
    const crc = bytes.readUInt32BE(offset + 8 + length);
    check(crc32(bytes.subarray(offset + 4, offset + 8 + length)) === crc, `its ${name} chunk's CRC is wrong`);
    if (header === undefined) {
      check(name === "IHDR" && length === 13, "its first chunk is not IHDR");
      const width = bytes.readUInt32BE(offset + 8);
      const height = bytes.readUInt32BE(offset + 12);
      check(width < 2 ** 31 && height < 2 ** 31, "its IHDR size is not valid");
      header = { width, height };
    } else if (name === "IDAT") {
      hasData = true;
    } else if (name === "IEND") {
      check(hasData, "it has no IDAT chunk");
      return sized(header.width, header.height);
    }
    offset += 12 + length;
  }
}

/** The start-of-frame markers, whose segments carry the size: SOF0–SOF15 but DHT, JPG and DAC. */
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * JPEG (ITU T.81): segments from SOI, a start of frame before the first scan, the entropy-coded
 * data of each scan skipped to its next marker, up to EOI.
 */
function inspectJpeg(bytes: Buffer): Inspection {
  let offset = 2;
  let frame: { width: number; height: number } | undefined;
  let scanned = false;
  for (;;) {
    within(bytes, offset, 2, "it ends before its EOI marker");
    check(bytes[offset] === 0xff, "a JPEG marker is missing where one must be");
    // Fill bytes (0xFF) may precede a marker.
    while (bytes[offset + 1] === 0xff) {
      offset += 1;
      within(bytes, offset, 2, "it ends before its EOI marker");
    }
    const marker = bytes[offset + 1]!;
    offset += 2;
    if (marker === 0xd9) {
      check(frame !== undefined && scanned, "it has no image data");
      return sized(frame.width, frame.height);
    }
    // Markers without a segment: RST0–RST7 and TEM. A second SOI is not a JPEG of ours.
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    check(marker !== 0xd8 && marker !== 0x00, "a JPEG marker is not valid");
    within(bytes, offset, 2, "it ends before its EOI marker");
    const length = bytes.readUInt16BE(offset);
    check(length >= 2, "a JPEG segment length is not valid");
    within(bytes, offset, length, "it ends before its EOI marker");
    if (isStartOfFrame(marker)) {
      check(length >= 8, "its frame header is too short");
      frame = { height: bytes.readUInt16BE(offset + 3), width: bytes.readUInt16BE(offset + 5) };
    }
    offset += length;
    if (marker === 0xda) {
      check(frame !== undefined, "a scan comes before the frame header");
      scanned = true;
      offset = endOfScan(bytes, offset);
    }
  }
}

/** The offset of the marker that ends the entropy-coded data from `offset` (0xFF 0x00 and RSTn are data). */
function endOfScan(bytes: Buffer, offset: number): number {
  for (let at = bytes.indexOf(0xff, offset); at !== -1; at = bytes.indexOf(0xff, at + 1)) {
    const next = bytes[at + 1];
    if (next === undefined) break;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) continue;
    if (next === 0xff) continue; // fill: the marker follows
    return at;
  }
  throw new Malformed("the file is cut short: it ends inside its image data, before its EOI marker");
}

/** GIF (87a, 89a): the screen descriptor, then images and extensions as blocks, up to the trailer. */
function inspectGif(bytes: Buffer): Inspection {
  within(bytes, 6, 7, "it ends inside its screen descriptor");
  const width = bytes.readUInt16LE(6);
  const height = bytes.readUInt16LE(8);
  let offset = 13 + colorTableSize(bytes[10]!);
  let images = 0;
  for (;;) {
    within(bytes, offset, 1, "it ends before its trailer");
    const introducer = bytes[offset]!;
    if (introducer === 0x3b) {
      check(images > 0, "it has no image");
      return sized(width, height);
    }
    if (introducer === 0x2c) {
      within(bytes, offset, 11, "it ends inside an image descriptor");
      offset += 10 + colorTableSize(bytes[offset + 9]!) + 1; // descriptor, local table, LZW code size
      images += 1;
    } else {
      check(introducer === 0x21, "a GIF block is not valid");
      offset += 2; // introducer and label
    }
    offset = afterSubBlocks(bytes, offset);
  }
}

/** Bytes of the colour table a GIF descriptor's packed field announces (0 when it has none). */
const colorTableSize = (packed: number) => (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0);

/** The offset after a chain of GIF data sub-blocks (each a length byte, then that many bytes; 0 ends). */
function afterSubBlocks(bytes: Buffer, offset: number): number {
  for (;;) {
    within(bytes, offset, 1, "it ends before its trailer");
    const length = bytes[offset]!;
    offset += 1;
    if (length === 0) return offset;
    within(bytes, offset, length, "it ends before its trailer");
    offset += length;
  }
}

/**
 * WebP: the RIFF container whole (its declared length present), chunks inside it, and the size from
 * its first chunk — VP8 (lossy), VP8L (lossless) or VP8X (extended, then an image chunk must follow).
 */
function inspectWebp(bytes: Buffer): Inspection {
  const end = 8 + bytes.readUInt32LE(4);
  within(bytes, 0, end, "it is shorter than its RIFF header declares");
  let offset = 12;
  let size: { width: number; height: number } | undefined;
  let hasImage = false;
  while (offset < end) {
    check(offset + 8 <= end, "a chunk header runs past the RIFF container");
    const name = bytes.toString("latin1", offset, offset + 4);
    const length = bytes.readUInt32LE(offset + 4);
    const data = offset + 8;
    check(data + length <= end, `its ${name.trim()} chunk runs past the RIFF container`);
    if (size === undefined) size = webpSize(bytes, name, data, length);
    if (name === "VP8 " || name === "VP8L" || name === "ANMF") hasImage = true;
    offset = data + length + (length % 2);
  }
  check(size !== undefined && hasImage, "it has no image data");
  return sized(size.width, size.height);
}

function webpSize(bytes: Buffer, name: string, data: number, length: number): { width: number; height: number } {
  if (name === "VP8 ") {
    check(length >= 10 && bytes.readUIntBE(data + 3, 3) === 0x9d012a, "its VP8 frame header is not valid");
    return { width: bytes.readUInt16LE(data + 6) & 0x3fff, height: bytes.readUInt16LE(data + 8) & 0x3fff };
  }
  if (name === "VP8L") {
    check(length >= 5 && bytes[data] === 0x2f, "its VP8L header is not valid");
    const bits = bytes.readUInt32LE(data + 1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  check(name === "VP8X" && length >= 10, "its first chunk is not VP8, VP8L or VP8X");
  return { width: bytes.readUIntLE(data + 4, 3) + 1, height: bytes.readUIntLE(data + 7, 3) + 1 };
}
