/**
 * Splits items 0..count-1 into groups where any two linked items share a group, transitively (union-find).
 * Groups come out ordered by their first item, each listing its items in ascending order, so the result
 * depends only on the order of the items, never on the order links were found.
 */
export function groupLinked(count: number, linked: (a: number, b: number) => boolean): number[][] {
  const parent = Array.from({ length: count }, (_, index) => index);
  const root = (index: number): number => {
    let at = index;
    while (parent[at] !== at) {
      const up = parent[at]!;
      parent[at] = parent[up]!; // path halving keeps later look-ups short
      at = up;
    }
    return at;
  };
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const ra = root(a);
      const rb = root(b);
      if (ra !== rb && linked(a, b)) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  }
  const groups = new Map<number, number[]>();
  for (let index = 0; index < count; index++) {
    const key = root(index);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  }
  return [...groups.values()];
}
