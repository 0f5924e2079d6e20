/** One fewer of `key`'s count; a count that reaches 0 leaves the map (keys such as addresses come and go). */
export function countDown(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
