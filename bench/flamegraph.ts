/**
 * Turns a V8 .cpuprofile (node --cpu-prof, or the inspector's Profiler) into an SVG flame graph,
 * and sums the samples by where their time is spent (package, source file, V8/Node internals).
 * No dependencies. Usage: node bench/flamegraph.ts <in.cpuprofile> <out.svg> [title]
 */
import { readFileSync, writeFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

interface Frame {
  name: string;
  bucket: string;
  self: number;
  total: number;
  children: Map<string, Frame>;
}

const ROW = 16;
const WIDTH = 1200;
const HIDDEN = new Set(["(root)", "(idle)"]);

/** A short, stable name for where a frame lives: an npm package, a file of ours, or the runtime. */
export function bucketOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const packages = url.split("node_modules/");
  if (packages.length > 1) {
    const rest = packages.at(-1)!.split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ours = /\/(src|bench)\/(.*)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url.startsWith("node:")) return url;
  return url.replace(/^.*\//, "");
}

/** Samples per node, from `samples` when present (more exact than hitCount). */
function hits(profile: CpuProfile): Map<number, number> {
  const counts = new Map<number, number>();
  if (profile.samples?.length) {
    for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  } else {
    for (const node of profile.nodes) counts.set(node.id, node.hitCount ?? 0);
  }
  return counts;
}

/** The call tree with frames of the same function merged under each parent; idle time left out. */
export function callTree(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = hits(profile);
  const root: Frame = { name: "all", bucket: "", self: 0, total: 0, children: new Map() };
  const visit = (node: ProfileNode, into: Frame) => {
    let frame = into;
    if (!HIDDEN.has(node.callFrame.functionName)) {
      const bucket = bucketOf(node.callFrame);
      const name = `${node.callFrame.functionName || "(anonymous)"} ${bucket}`;
      frame = into.children.get(name) ?? { name, bucket, self: 0, total: 0, children: new Map() };
      into.children.set(name, frame);
      frame.self += counts.get(node.id) ?? 0;
    }
    for (const child of node.children ?? []) visit(byId.get(child)!, frame);
  };
  visit(profile.nodes[0]!, root);
  const sum = (frame: Frame): number => {
    frame.total = frame.self;
    for (const child of frame.children.values()) frame.total += sum(child);
    return frame.total;
  };
  sum(root);
  return root;
}

/** Busy samples by bucket (self time), largest first, as fractions of all busy samples. */
export function selfByBucket(profile: CpuProfile): { bucket: string; share: number }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let busy = 0;
  for (const [id, count] of hits(profile)) {
    const frame = byId.get(id)!.callFrame;
    if (HIDDEN.has(frame.functionName)) continue;
    busy += count;
    const bucket = bucketOf(frame);
    totals.set(bucket, (totals.get(bucket) ?? 0) + count);
  }
  return [...totals].map(([bucket, count]) => ({ bucket, share: count / busy })).sort((a, b) => b.share - a.share);
}

/**
 * Busy samples by part of the path, as fractions of all busy samples: each sample goes to the part
 * of the frame nearest its leaf that matches a pattern ("<function> <url>"), so that middleware
 * whose next() runs the rest of the request is charged only with its own work and what it calls.
 */
export function shareByPart(profile: CpuProfile, patterns: Record<string, RegExp>): Record<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const found: Record<string, number> = Object.fromEntries(
    [...Object.keys(patterns), "other"].map((name) => [name, 0]),
  );
  const entries = Object.entries(patterns);
  let busy = 0;
  for (const [id, count] of hits(profile)) {
    if (HIDDEN.has(byId.get(id)!.callFrame.functionName)) continue;
    busy += count;
    let part = "other";
    for (let at: number | undefined = id; at !== undefined && part === "other"; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      part = entries.find(([, pattern]) => pattern.test(`${frame.functionName} ${frame.url}`))?.[0] ?? "other";
    }
    found[part]! += count;
  }
  return Object.fromEntries(Object.entries(found).map(([name, count]) => [name, busy ? count / busy : 0]));
}

/** A function as the tables print it: name, where it lives, line. */
function functionName(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"} ${bucketOf(frame)}:${frame.lineNumber + 1}`;
}

/** The functions with the most self samples, as fractions of all busy samples. */
export function topFunctions(profile: CpuProfile, count: number): { name: string; share: number }[] {
  const counts = hits(profile);
  const totals = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    if (HIDDEN.has(node.callFrame.functionName)) continue;
    const n = counts.get(node.id) ?? 0;
    busy += n;
    const name = functionName(node.callFrame);
    totals.set(name, (totals.get(name) ?? 0) + n);
  }
  return [...totals]
    .map(([name, n]) => ({ name, share: n / busy }))
    .sort((a, b) => b.share - a.share)
    .slice(0, count);
}

function colourOf(bucket: string): string {
  if (bucket.startsWith("src/")) return "hsl(20, 85%, 60%)";
  if (bucket.startsWith("node:")) return "hsl(200, 50%, 65%)";
  if (bucket.startsWith("(")) return "hsl(0, 0%, 70%)";
  let hash = 0;
  for (const char of bucket) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return `hsl(${40 + (Math.abs(hash) % 40)}, 80%, ${55 + (Math.abs(hash >> 8) % 15)}%)`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** An icicle-style flame graph (root on top), widths proportional to samples. */
export function renderSvg(root: Frame, title: string): string {
  const rects: string[] = [];
  let maxDepth = 0;
  const scale = WIDTH / Math.max(1, root.total);
  const draw = (frame: Frame, x: number, depth: number) => {
    const width = frame.total * scale;
    if (width < 0.3) return;
    maxDepth = Math.max(maxDepth, depth);
    const y = 24 + depth * ROW;
    const share = ((frame.total / root.total) * 100).toFixed(1);
    const label = width > 40 ? escapeXml(frame.name).slice(0, Math.floor(width / 6.5)) : "";
    rects.push(
      `<g><title>${escapeXml(frame.name)} — ${share}% (${frame.total} samples)</title>` +
        `<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 1}" ` +
        `fill="${depth === 0 ? "hsl(0,0%,85%)" : colourOf(frame.bucket)}"/>` +
        (label ? `<text x="${(x + 3).toFixed(1)}" y="${y + 11}">${label}</text>` : "") +
        "</g>",
    );
    let offset = x;
    const children = [...frame.children.values()].sort((a, b) => b.total - a.total);
    for (const child of children) {
      draw(child, offset, depth + 1);
      offset += child.total * scale;
    }
  };
  draw(root, 0, 0);
  const height = 24 + (maxDepth + 1) * ROW + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="monospace" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="4" y="16" font-size="13">${escapeXml(title)} — ${root.total} samples; hover for names</text>`,
    ...rects,
    "</svg>",
    "",
  ].join("\n");
}

/** V8's sampling heap profile (HeapProfiler.stopSampling): a call tree with bytes allocated at each frame. */
export interface HeapProfile {
  head: HeapNode;
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated in all, by package or file and by function (each sorted, largest first). */
export function allocations(profile: HeapProfile): {
  total: number;
  byBucket: [string, number][];
  byFunction: [string, number][];
} {
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  const stack = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const frame = node.callFrame;
    const bucket = bucketOf(frame);
    const name = functionName(frame);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + node.selfSize);
    functions.set(name, (functions.get(name) ?? 0) + node.selfSize);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { total, byBucket: sorted(buckets), byFunction: sorted(functions) };
}

if (import.meta.filename === process.argv[1]) {
  const [input, output, title] = process.argv.slice(2);
  if (!input || !output) throw new Error("usage: node bench/flamegraph.ts <in.cpuprofile> <out.svg> [title]");
  const profile = JSON.parse(readFileSync(input, "utf8")) as CpuProfile;
  writeFileSync(output, renderSvg(callTree(profile), title ?? input));
  for (const { bucket, share } of selfByBucket(profile).slice(0, 25)) {
    process.stdout.write(`${(share * 100).toFixed(1).padStart(5)}%  ${bucket}\n`);
  }
}
