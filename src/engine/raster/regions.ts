/** Connected regions of a mask. */

export interface Regions {
  /** region id per pixel, -1 on the pixels not taken */
  label: Int32Array;
  /** per region: its pixel count */
  counts: number[];
  /** per region: its smallest and largest pixel index (a pass over one region reads only that range) */
  first: number[];
  last: number[];
  /** per region: whether it reaches the frame's edge */
  touches: boolean[];
}

/**
 * The 4-connected regions of the pixels of a mask of 0s and 1s that equal `value`, numbered in the
 * order a raster scan meets them (by their smallest index). Labelled run by run: each row's runs, found
 * by the native indexOf, are joined to the runs they overlap in the row above (union-find), so the cost
 * is one fill per run rather than a visit of every pixel and its four neighbours.
 */
export function labelRegions(mask: Uint8Array, value: 0 | 1, w: number, h: number): Regions {
  const other = value === 1 ? 0 : 1;
  // the runs, in raster order: row, start and end (exclusive), and a provisional parent for the union-find
  const runY: number[] = [], runA: number[] = [], runB: number[] = [], parent: number[] = [];
  const find = (r: number): number => {
    while (parent[r] !== r) {
      parent[r] = parent[parent[r]!]!;
      r = parent[r]!;
    }
    return r;
  };
  let above = 0, aboveEnd = 0; // the previous row's runs: [above, aboveEnd)
  for (let y = 0; y < h; y++) {
    const row = mask.subarray(y * w, y * w + w);
    const rowFirst = runY.length;
    let a = row.indexOf(value);
    let k = above;
    while (a >= 0) {
      let b = row.indexOf(other, a);
      if (b < 0) b = w;
      const id = runY.length;
      runY.push(y); runA.push(a); runB.push(b); parent.push(id);
      // the runs above that share a column with this one (both lists are sorted by start)
      while (k < aboveEnd && runB[k]! <= a) k++;
      for (let j = k; j < aboveEnd && runA[j]! < b; j++) {
        const p = find(j), q = find(id);
        if (p !== q) parent[Math.max(p, q)] = Math.min(p, q);
      }
      a = b < w ? row.indexOf(value, b) : -1;
    }
    above = rowFirst;
    aboveEnd = runY.length;
  }
  // roots point at their region's first run, so regions are numbered in the order their first runs come
  const label = new Int32Array(w * h).fill(-1);
  const regionOf = new Int32Array(runY.length).fill(-1);
  const counts: number[] = [], first: number[] = [], last: number[] = [], touches: boolean[] = [];
  for (let r = 0; r < runY.length; r++) {
    const root = find(r);
    let id = regionOf[root]!;
    if (id < 0) {
      id = regionOf[root] = counts.length;
      counts.push(0); first.push(runY[r]! * w + runA[r]!); last.push(0); touches.push(false);
    }
    const y = runY[r]!, a = runA[r]!, b = runB[r]!;
    const start = y * w;
    label.fill(id, start + a, start + b);
    counts[id]! += b - a;
    if (start + b - 1 > last[id]!) last[id] = start + b - 1;
    if (y === 0 || y === h - 1 || a === 0 || b === w) touches[id] = true;
  }
  return { label, counts, first, last, touches };
}
