import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lineChartSvg, seriesStyle } from "../../src/cli/plot.js";

const numbers = (svg: string, re: RegExp): number[] => [...svg.matchAll(re)].map((m) => Number(m[1]));

describe("plots", () => {
  it("gives forty series forty different looks (colour, marker, dash)", () => {
    const looks = Array.from({ length: 40 }, (_, i) => JSON.stringify(seriesStyle(i)));
    assert.equal(new Set(looks).size, 40);
    assert.equal(new Set(looks.slice(0, 10).map((l) => JSON.parse(l).color)).size, 10);
  });

  it("puts the legend beside the plot, wide enough for its longest name, one entry per series", () => {
    const names = Array.from({ length: 18 }, (_, i) => (i === 7 ? "hadamard:tanh (rank 4)" : `method ${i}`));
    const series = names.map((name, i) => ({
      name,
      points: [0, 100, 200, 400].map((x) => [x, i + Math.sin(x)] as [number, number]),
    }));
    const svg = lineChartSvg(series, { title: "t", xLabel: "step", yLabel: "score", markers: true });
    const legendX = numbers(svg, /<text x="([\d.]+)" y="[\d.]+" fill="#333">/g);
    assert.equal(legendX.length, 18, "one legend entry per series");
    for (const name of names) assert.equal(svg.split(`>${name}</text>`).length, 2, name);
    const pathX = numbers(svg, /[ML]([\d.]+),/g);
    assert.ok(Math.min(...legendX) > Math.max(...pathX) + 24, "no legend entry stands over a line");
    const width = numbers(svg, /<svg [^>]*width="(\d+)"/g)[0];
    assert.ok(Math.min(...legendX) + 8 * "hadamard:tanh (rank 4)".length <= width, "the longest name fits");
    const dashed = [...svg.matchAll(/<path [^>]*stroke-dasharray/g)].length;
    assert.equal(dashed, 8, "series 10 to 17 are dashed, the first ten solid");
  });
});
