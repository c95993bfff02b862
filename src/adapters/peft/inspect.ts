import * as T from "../../tensor/index.js";
import { Generator, noGrad } from "../../tensor/index.js";
import { ModuleAdapter } from "../adapter.js";
import { makeContext, moduleScaling } from "../context.js";
import { denseDelta } from "../delta.js";
import { readAdapterFolder } from "./folder.js";
import { groupAdapterTensors } from "./names.js";
import { peftTypeOf } from "./config.js";
import { methodNamed } from "../methods/index.js";
import { WeightView } from "../view.js";

export interface AdapterModuleSummary {
  path: string;
  r: number;
  alpha: number;
  scale: number;
  parameters: number;
  /** ‖ΔW‖_F, or null where ΔW depends on the base weights (CondLoRA). */
  deltaNorm: number | null;
}

export interface AdapterSummary {
  kind: "adapter";
  path: string;
  method: string;
  peftType: string;
  targetModules: string[] | string;
  r: number;
  alpha: number;
  modules: AdapterModuleSummary[];
  sharedParameters: number;
  otherTensors: string[];
  totalParameters: number;
}

/** What `morelora inspect` shows of an adapter folder. */
export function inspectAdapter(dir: string): AdapterSummary {
  const folder = readAdapterFolder(dir);
  const { config } = folder;
  const method = methodNamed(config.method);
  const g = groupAdapterTensors(folder.tensors, method);
  const modules = [...g.modules].map(([path, { own, init }]): AdapterModuleSummary => {
    const parameters = [...own.values()].reduce((n, t) => n + t.size, 0);
    // A zero base of the module's shape: ΔW does not depend on it unless the method reads W0 (CondLoRA, no own tensors).
    const shape = method.moduleShape?.(own) ?? null;
    let deltaNorm: number | null = null;
    if (shape) {
      const { kind, m, n } = shape;
      const weight = T.zeros(kind === "embedding" ? [n, m] : [m, n]);
      const ctx = makeContext({
        view: new WeightView(kind, weight),
        path,
        config,
        shared: g.shared,
        rng: new Generator(0),
        dtype: "float32",
      });
      const adapter = new ModuleAdapter(
        method,
        ctx,
        own,
        config.init === "better" ? new Map(g.initShared) : null,
      );
      for (const [name, t] of adapter.initTensors ?? [])
        if (init.has(name)) t.floatData.set(init.get(name)!.data);
      deltaNorm = noGrad(() => Math.sqrt(T.sum(T.powScalar(denseDelta(adapter.delta()), 2)).item()));
    }
    return { path, ...moduleScaling(path, config), parameters, deltaNorm };
  });
  const sharedParameters = [...g.shared.values()].reduce((n, t) => n + t.size, 0);
  const others = [...g.others.values()].reduce((n, t) => n + t.size, 0);
  return {
    kind: "adapter",
    path: dir,
    method: config.method,
    peftType: peftTypeOf(config),
    targetModules: config.targetModules,
    r: config.r,
    alpha: config.alpha,
    modules,
    sharedParameters,
    otherTensors: [...g.others.keys()],
    totalParameters: modules.reduce((n, m) => n + m.parameters, 0) + sharedParameters + others,
  };
}
