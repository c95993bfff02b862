import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { writeFileAtomic, writeTextFile } from "../io/index.js";

const require = createRequire(import.meta.url);
let ready: Promise<Uint8Array> | null = null;

/**
 * resvg (WebAssembly, no platform binary) and the DejaVu Sans font from npm, loaded once: the
 * plots' text renders the same on every machine, with no system fonts.
 */
function renderer(): Promise<Uint8Array> {
  ready ??= initWasm(readFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm"))).then(() =>
    readFileSync(require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf")),
  );
  return ready;
}

/** An SVG drawing as a PNG at twice its size (sharp on high-density screens). */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const font = await renderer();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: 2 },
    background: "white",
    font: { fontBuffers: [font], defaultFontFamily: "DejaVu Sans", loadSystemFonts: false },
  });
  return resvg.render().asPng();
}

/** Writes a plot as file.svg and, beside it, file.png (each atomically); returns the PNG's path. */
export async function writePlot(svgFile: string, svg: string): Promise<string> {
  writeTextFile(svgFile, svg);
  const pngFile = svgFile.replace(/\.svg$/, ".png");
  writeFileAtomic(pngFile, await svgToPng(svg));
  return pngFile;
}
