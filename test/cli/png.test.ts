import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { svgToPng, writePlot } from "../../src/cli/png.js";

const svg = (text: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" font-family="sans-serif" font-size="12">` +
  `<text x="10" y="25">${text}</text></svg>`;

/** Width and height from a PNG's IHDR chunk. */
const size = (png: Uint8Array): [number, number] => {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
};

describe("PNG plots", () => {
  it("renders SVG to PNG at twice its size, text drawn with the shipped font", async () => {
    const withText = await svgToPng(svg("loss 0.42"));
    assert.deepEqual([...withText.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
    assert.deepEqual(size(withText), [240, 80]);
    // Without a font resvg draws no glyphs, and the text-only drawing would equal an empty one.
    const empty = await svgToPng(svg(""));
    assert.notDeepEqual(withText, empty);
    assert.notDeepEqual(withText, await svgToPng(svg("loss 0.43")));
  });

  it("writePlot writes the SVG and the PNG beside it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "morelora-png-"));
    const png = await writePlot(join(dir, "plot.svg"), svg("x"));
    assert.equal(png, join(dir, "plot.png"));
    assert.equal(readFileSync(join(dir, "plot.svg"), "utf8"), svg("x"));
    assert.deepEqual(size(readFileSync(png)), [240, 80]);
  });
});
