/** How deep a parsed JSON value nests, measured without recursion (a deep value cannot overflow the stack). */

/** True when `value` nests objects and arrays more than `max` levels deep (a scalar is 0 deep). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  const pending: Array<[object, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (depth > max) return true;
    for (const child of Object.values(node))
      if (typeof child === "object" && child !== null) pending.push([child, depth + 1]);
  }
  return false;
}
