/** A line chart as a standalone SVG: one or more series over a shared x axis. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** Ten strong colours (Tableau 10), each readable as text on white. */
const COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

type Marker = "circle" | "square" | "triangle" | "diamond";

/** How a series or row is drawn: its colour, the marker at its points, and its line's dash. */
export interface SeriesStyle {
  color: string;
  marker: Marker;
  /** An SVG stroke-dasharray, or null for a solid line. */
  dash: string | null;
}

const LOOKS: { marker: Marker; dash: string | null }[] = [
  { marker: "circle", dash: null },
  { marker: "square", dash: "6 3" },
  { marker: "triangle", dash: "2 2" },
  { marker: "diamond", dash: "8 3 2 3" },
];

/**
 * The style of series i: the ten colours in turn, and with each further ten a new marker and dash,
 * so that up to forty series never look alike (more than ten colours stop being told apart).
 */
export function seriesStyle(i: number): SeriesStyle {
  const look = LOOKS[Math.floor(i / COLORS.length) % LOOKS.length];
  return { color: COLORS[i % COLORS.length], ...look };
}

/** A marker of a style centred at (x, y). */
function markerSvg({ color, marker }: SeriesStyle, x: number, y: number, r = 4): string {
  const at = (dx: number, dy: number): string => `${(x + dx).toFixed(1)},${(y + dy).toFixed(1)}`;
  if (marker === "circle")
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
  if (marker === "square")
    return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
  const corners =
    marker === "triangle"
      ? [at(0, -r - 1), at(r + 1, r), at(-r - 1, r)]
      : [at(0, -r - 1), at(r + 1, 0), at(0, r + 1), at(-r - 1, 0)];
  return `<polygon points="${corners.join(" ")}" fill="${color}"/>`;
}

/** A line segment in a style (for a legend entry or a series). */
const strokeOf = ({ color, dash }: SeriesStyle): string =>
  `stroke="${color}"${dash ? ` stroke-dasharray="${dash}"` : ""}`;

const fmt = (v: number): string => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3));

/**
 * Lines through each series' points; with markers, one at every point too (one-point series are
 * markers alone). The legend stands to the right of the plot, so it hides no line.
 */
export function lineChartSvg(
  series: Series[],
  {
    title,
    xLabel,
    yLabel,
    markers = false,
  }: { title: string; xLabel: string; yLabel: string; markers?: boolean },
): string {
  const rowH = 16;
  // Up to 8 px a character at font size 12, after the 44 px of gap and line sample, and a margin.
  const legendW = 52 + 8 * Math.max(0, ...series.map((s) => s.name.length));
  const [plotW, left, top, bottom] = [576, 64, 36, 48];
  const w = left + plotW + legendW;
  const right = w - legendW;
  const h = Math.max(400, top + rowH * series.length + bottom);
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1];
  const px = (x: number): number => left + ((x - x0) / (x1 - x0 || 1)) * (right - left);
  const py = (y: number): number => top + (1 - (y - y0) / (y1 - y0)) * (h - top - bottom);
  const ticks = Array.from({ length: 5 }, (_, i) => y0 + ((y1 - y0) * i) / 4);
  const lines = series.map((s, i) => {
    const style = seriesStyle(i);
    const shown = s.points.filter(([, y]) => Number.isFinite(y));
    const d = shown.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
    const dots = markers ? shown.map(([x, y]) => markerSvg(style, px(x), py(y))) : [];
    return [`<path d="${d}" fill="none" ${strokeOf(style)} stroke-width="1.5"/>`, ...dots].join("");
  });
  const legend = series.map((s, i) => {
    const style = seriesStyle(i);
    const [x, y] = [right + 12, top + rowH * i + rowH / 2];
    return (
      `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" ${strokeOf(style)} stroke-width="1.5"/>` +
      (markers ? markerSvg(style, x + 12, y) : "") +
      `<text x="${x + 32}" y="${y + 4}" fill="#333">${escape(s.name)}</text>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${(left + right) / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${left}" x2="${right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    ),
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${h - bottom}" stroke="#333"/>`,
    `<line x1="${left}" x2="${right}" y1="${h - bottom}" y2="${h - bottom}" stroke="#333"/>`,
    `<text x="${left}" y="${h - bottom + 16}">${fmt(x0)}</text><text x="${right}" y="${h - bottom + 16}" text-anchor="end">${fmt(x1)}</text>`,
    `<text x="${(left + right) / 2}" y="${h - 10}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text transform="translate(16 ${(top + h - bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
    ...lines,
    ...legend,
    "</svg>",
  ].join("\n");
}

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A row of an interval chart: a point with its error bar. */
export interface IntervalItem {
  name: string;
  value: number;
  low: number;
  high: number;
}

/**
 * One row per item: a marker at the value and a bar from low to high, the name on the left in the
 * marker's colour (the legend), and optional dashed reference lines (baselines).
 */
export function intervalChartSvg(
  items: readonly IntervalItem[],
  {
    title,
    xLabel,
    references = [],
    bounds,
  }: {
    title: string;
    xLabel: string;
    references?: { name: string; value: number }[];
    /** The axis never extends past these (a percentage: 0 and 100). */
    bounds?: [number, number];
  },
): string {
  // Room above the rows for one label line per reference, below the title.
  const [w, left, right, rowH] = [720, 220, 24, 20];
  const top = 28 + 14 * Math.max(1, references.length);
  const h = top + rowH * items.length + 56;
  const xs = [...items.flatMap((i) => [i.low, i.high, i.value]), ...references.map((r) => r.value)].filter(
    Number.isFinite,
  );
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1];
  const pad = (x1 - x0) * 0.05;
  [x0, x1] = [x0 - pad, x1 + pad];
  if (bounds) [x0, x1] = [Math.max(x0, bounds[0]), Math.min(x1, bounds[1])];
  const px = (x: number): number => left + ((x - x0) / (x1 - x0)) * (w - left - right);
  const bottom = top + rowH * items.length;
  const ticks = Array.from({ length: 6 }, (_, i) => x0 + ((x1 - x0) * i) / 5);
  const rows = items.map((it, i) => {
    const y = top + rowH * i + rowH / 2;
    const style = seriesStyle(i);
    const { color } = style;
    const bar =
      Number.isFinite(it.low) && Number.isFinite(it.high)
        ? `<line x1="${px(it.low).toFixed(1)}" x2="${px(it.high).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>` +
          [it.low, it.high]
            .map(
              (v) =>
                `<line x1="${px(v).toFixed(1)}" x2="${px(v).toFixed(1)}" y1="${y - 4}" y2="${y + 4}" stroke="${color}" stroke-width="2"/>`,
            )
            .join("")
        : "";
    const dot = Number.isFinite(it.value) ? markerSvg(style, px(it.value), y) : "";
    return `<text x="${left - 8}" y="${y + 4}" text-anchor="end" fill="${color}">${escape(it.name)}</text>${bar}${dot}`;
  });
  // A label near an edge runs inwards from its line, so that it stays inside the picture.
  const anchor = (x: number): string =>
    x > left + 0.7 * (w - left) ? "end" : x < left + 0.3 * (w - left) ? "start" : "middle";
  const refs = references.map(
    (r, i) =>
      `<line x1="${px(r.value).toFixed(1)}" x2="${px(r.value).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#555" stroke-dasharray="4 3"/>` +
      `<text x="${px(r.value).toFixed(1)}" y="${top - 6 - 14 * i}" text-anchor="${anchor(px(r.value))}" fill="#555">${escape(r.name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${w / 2}" y="16" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#ddd"/><text x="${px(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${fmt(t)}</text>`,
    ),
    `<line x1="${left}" x2="${w - right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${(left + w - right) / 2}" y="${bottom + 36}" text-anchor="middle">${escape(xLabel)}</text>`,
    ...refs,
    ...rows,
    "</svg>",
  ].join("\n");
}
