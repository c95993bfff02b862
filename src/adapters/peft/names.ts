import type { Tensor } from "../../tensor/index.js";
import type { AdapterMethod } from "../method.js";

/** Every tensor name in an adapter file starts with this (PEFT's PeftModel → LoraModel → model). */
export const PREFIX = "base_model.model.";
/** Path part of the frozen initial tensors a "better" init saves beside the trained ones. */
export const INIT_PART = "morelora_init";

/** What a tensor name of an adapter file (after the prefix) stands for. */
export type AdapterKey =
  | { kind: "module"; path: string; name: string; init: boolean }
  | { kind: "shared"; key: string; init: boolean }
  | { kind: "other"; name: string };

/** Reads tensor names by the method's own: its per-module tensor names and its shared prefix. */
export function adapterKeyParser(method: AdapterMethod): (name: string) => AdapterKey {
  const moduleKey = method.tensorNames
    ? new RegExp(`^(?<path>.+?)\\.(?<init>${INIT_PART}\\.)?(?<name>${method.tensorNames.source})$`)
    : null;
  const sharedKey = method.sharedPrefix
    ? new RegExp(`^${method.sharedPrefix}\\.(?<init>${INIT_PART}\\.)?(?<key>[^.]+\\..+)$`)
    : null;
  return (name) => {
    const shared = sharedKey?.exec(name);
    if (shared) return { kind: "shared", key: shared.groups!.key, init: Boolean(shared.groups!.init) };
    const m = moduleKey?.exec(name);
    if (m)
      return { kind: "module", path: m.groups!.path, name: m.groups!.name, init: Boolean(m.groups!.init) };
    return { kind: "other", name };
  };
}

/** An adapter folder's tensors grouped by module, with the shared maps and the remaining (full) tensors. */
export interface GroupedAdapter {
  modules: Map<string, { own: Map<string, Tensor>; init: Map<string, Tensor> }>;
  shared: Map<string, Tensor>;
  initShared: Map<string, Tensor>;
  /** modules_to_save and bias tensors, by their name in the base model. */
  others: Map<string, Tensor>;
}

/** Groups an adapter file's tensors by the names its method declares. */
export function groupAdapterTensors(
  tensors: ReadonlyMap<string, Tensor>,
  method: AdapterMethod,
): GroupedAdapter {
  const parseKey = adapterKeyParser(method);
  const g: GroupedAdapter = {
    modules: new Map(),
    shared: new Map(),
    initShared: new Map(),
    others: new Map(),
  };
  for (const [full, t] of tensors) {
    const key = parseKey(full.slice(PREFIX.length));
    if (key.kind === "shared") (key.init ? g.initShared : g.shared).set(key.key, t);
    else if (key.kind === "other") g.others.set(key.name, t);
    else {
      let entry = g.modules.get(key.path);
      if (!entry) g.modules.set(key.path, (entry = { own: new Map(), init: new Map() }));
      (key.init ? entry.init : entry.own).set(key.name, t);
    }
  }
  return g;
}
