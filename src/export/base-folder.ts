import { isDirectory, joinPath, readJsonFile, resolvePath } from "../io/index.js";

/** The base model folder: --base, else the adapter config's base_model_name_or_path if it is a folder. */
export function baseFolder(adapterDir: string, base: string | undefined): string {
  if (base !== undefined) {
    if (!isDirectory(base)) throw new Error(`--base ${base}: no such folder`);
    return base;
  }
  const configFile = joinPath(adapterDir, "adapter_config.json");
  const recorded = (readJsonFile(configFile) as Record<string, unknown>).base_model_name_or_path;
  if (typeof recorded !== "string")
    throw new Error(
      `${configFile}: "base_model_name_or_path" is not set; pass --base DIR (the model it was trained on)`,
    );
  const found = [recorded, resolvePath(adapterDir, recorded)].find((d) => isDirectory(d));
  if (!found)
    throw new Error(
      `${configFile}: "base_model_name_or_path" ${recorded} is not a local folder; pass --base DIR`,
    );
  return found;
}
