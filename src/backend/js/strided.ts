/**
 * Iteration over strided views. Adjacent dimensions that are contiguous in every operand are
 * merged first, so the common cases (same shapes, a bias row, a scalar) become one or few long rows.
 */

export interface RowPlan {
  /** Shape after merging, without its last dimension. */
  outerShape: number[];
  /** Per operand: strides of the outer dimensions. */
  outerStrides: number[][];
  /** Length of each row (the merged last dimension). */
  rowLength: number;
  /** Per operand: stride along the row. */
  rowStrides: number[];
}

export function planRows(shape: readonly number[], strides: readonly (readonly number[])[]): RowPlan {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    const mergeable = last >= 0 && strides.every((s, o) => st[o][last] === s[d] * shape[d]);
    if (mergeable) {
      dims[last] *= shape[d];
      strides.forEach((s, o) => {
        st[o][last] = s[d];
      });
    } else {
      dims.push(shape[d]);
      strides.forEach((s, o) => {
        st[o].push(s[d]);
      });
    }
  }
  if (dims.length === 0)
    return { outerShape: [], outerStrides: st.map(() => []), rowLength: 1, rowStrides: st.map(() => 0) };
  const rowLength = dims.pop()!;
  return {
    outerShape: dims,
    outerStrides: st.map((s) => s.slice(0, -1)),
    rowLength,
    rowStrides: st.map((s) => s[s.length - 1]),
  };
}

/**
 * Calls fn once per row with the start offset of each operand in `offs` (mutated in place).
 * `base` holds each operand's starting offset.
 */
export function forEachRow(
  plan: RowPlan,
  base: readonly number[],
  fn: (offs: Int32Array | number[]) => void,
): void {
  const nd = plan.outerShape.length;
  const ops = base.length;
  const offs = base.slice();
  if (nd === 0) {
    fn(offs);
    return;
  }
  for (const size of plan.outerShape) if (size === 0) return;
  const idx = new Array<number>(nd).fill(0);
  for (;;) {
    fn(offs);
    let d = nd - 1;
    for (; d >= 0; d--) {
      idx[d]++;
      for (let o = 0; o < ops; o++) offs[o] += plan.outerStrides[o][d];
      if (idx[d] < plan.outerShape[d]) break;
      for (let o = 0; o < ops; o++) offs[o] -= plan.outerStrides[o][d] * idx[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Row-major strides of a contiguous shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
