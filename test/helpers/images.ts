/**
 * Well-formed images for upload tests, built here rather than stored: a PNG of any length (for the
 * size limits) whose bytes differ by `fill`, and the structure-level edits a test needs (a size
 * written into a header, a PNG chunk's CRC made right). Real encoders' output is in
 * test/media/fixtures/ (made by Chromium's canvas).
 */
import { readFileSync } from "node:fs";
import { deflateSync, crc32 } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A PNG of these chunks: the signature, then each as it is given. */
export const pngOf = (...chunks: Buffer[]): Buffer => Buffer.concat([SIGNATURE, ...chunks]);

/** An IHDR chunk: `width` × `height`, 8-bit RGB unless told (deflate, adaptive filter, no interlace). */
export function ihdr(size: { width: number; height: number }, depth = 8, colorType = 2): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size.width, 0);
  header.writeUInt32BE(size.height, 4);
  header.set([depth, colorType, 0, 0, 0], 8);
  return pngChunk("IHDR", header);
}

/** An IDAT chunk holding one row of one RGB pixel, compressed. */
export const idat = (): Buffer => pngChunk("IDAT", deflateSync(Buffer.from([0, 0xcc, 0x00, 0x33])));
export const iend = (): Buffer => pngChunk("IEND", Buffer.alloc(0));

/**
 * A PNG of `8 + length` bytes (at least 8 + 81), `width` × `height` as its header says (1 × 1 by
 * default, its pixel given), padded to the length by a private ancillary chunk, which viewers skip,
 * holding `fill` (a whole number below 2³²): distinct `fill`s are distinct contents.
 */
export function png(fill: number, length = 200, size: { width: number; height: number } = { width: 1, height: 1 }) {
  const [header, data, end] = [ihdr(size), idat(), iend()];
  const padding = length - header.length - data.length - end.length - 12;
  if (padding < 0) throw new Error(`png(): ${length} bytes are too few for the image and its padding chunk`);
  const pad = Buffer.alloc(padding, fill & 0xff);
  if (padding >= 4) pad.writeUInt32BE(fill);
  return pngOf(header, pngChunk("teSt", pad), data, end);
}

/** A file of test/media/fixtures/. */
export const fixture = (name: string): Buffer => readFileSync(new URL(`../media/fixtures/${name}`, import.meta.url));
