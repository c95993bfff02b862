import type { AdapterConfig } from "../config.js";

/**
 * The README.md of an adapter folder (PEFT writes one too): which library and method made it,
 * and how to load it, or, for a type PEFT does not know, how to merge or convert it
 * (docs/adapter-format.md).
 */
export function modelCard(c: AdapterConfig, peftType: string, baseModel: string | null): string {
  const front = ["---", "library_name: morelora", ...(baseModel ? [`base_model: ${baseModel}`] : []), "---"];
  const base = baseModel ?? "BASE";
  const summary =
    `Written by morelora (npm package \`morelora\`): method \`${c.method}\`, \`peft_type\` \`${peftType}\`, ` +
    `r = ${c.r}, alpha = ${c.alpha}, targets ${JSON.stringify(c.targetModules)}` +
    (baseModel ? `, base model \`${baseModel}\`.` : ".");
  const load = peftType.startsWith("MORELORA_")
    ? [
        `PEFT cannot load this folder: \`${peftType}\` is morelora's own type (PEFT stops with`,
        `\`KeyError: '${peftType}'\`). To use it:`,
        "",
        "- with morelora: `PeftModel.load(model, dir)`, or `morelora eval` / `morelora generate` with `--adapter DIR`;",
        `- anywhere: fold it into the base weights with \`morelora merge --base ${base} --adapter DIR --out merged/\`,`,
        "  a plain HuggingFace folder that transformers and other tools load;",
        "- as a PEFT LoRA: `morelora convert --adapter DIR --to lora --rank R --out DIR-lora` (truncated SVD).",
      ]
    : [
        "PEFT loads this folder as it is:",
        "",
        "```python",
        "from peft import PeftModel",
        `model = PeftModel.from_pretrained(base_model, "DIR")  # base_model: ${base}`,
        "```",
        "",
        "morelora loads it with `PeftModel.load(model, dir)` and merges it with `morelora merge`.",
      ];
  return [...front, "", `# ${c.method} adapter`, "", summary, "", "## Loading", "", ...load, ""].join("\n");
}
