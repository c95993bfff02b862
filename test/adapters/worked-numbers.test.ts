import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AdapterConfigInput,
  denseDelta,
  getPeftModel,
  type PeftModel,
} from "../../src/adapters/index.js";
import { AdapterLayer } from "../../src/adapters/layer.js";
import * as T from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";
import { f64, linearWith, type SingleLinear } from "../support/single-linear.js";

// docs/methods.md §0's fixture: W0 [3, 4], b, A [2, 4], B [3, 2], x, alpha 4 (s = 2).
const W0 = [
  [1, 2, 0, -1],
  [0, 1, 3, 1],
  [2, 0, 1, 0],
];
const BIAS = [0.1, 0, -0.2];
const A = [
  [0.5, -1, 0, 1],
  [1, 0, -0.5, 0],
];
const B = [
  [1, 0],
  [0, 2],
  [-1, 1],
];
const X = f64([[1, 2, -1, 0.5]]);
const TOL = { rtol: 1e-5, atol: 1e-6 };

function adapted(
  config: Partial<AdapterConfigInput>,
  weight = W0,
  bias: number[] | null = BIAS,
): PeftModel<SingleLinear> {
  return getPeftModel(linearWith(weight, bias), { r: 2, alpha: 4, targetModules: ["proj"], ...config });
}

const layerOf = (peft: PeftModel): AdapterLayer => peft.model.getSubmodule("proj") as AdapterLayer;

/** Sets adapter tensors by their file names. */
function set(peft: PeftModel, values: Record<string, number[][] | number[]>): void {
  const tensors = layerOf(peft).adapter("default")!.tensors;
  for (const [name, v] of Object.entries(values)) {
    const t = tensors.get(name);
    assert.ok(t, `no tensor ${name} (have ${[...tensors.keys()].join(", ")})`);
    t.data.set(v.flat());
  }
}

function check(peft: PeftModel, { delta, y }: { delta?: number[][]; y: number[] }): void {
  if (delta)
    assertClose(denseDelta(layerOf(peft).adapter("default")!.delta()).data, delta.flat(), {
      ...TOL,
      what: "ΔW",
    });
  assertClose(peft.forward(X).data, y, { ...TOL, what: "y" });
}

describe("docs/methods.md §7 worked numbers", () => {
  it("LoRA", () => {
    const peft = adapted({ method: "lora" });
    set(peft, { "lora_A.weight": A, "lora_B.weight": B });
    check(peft, {
      delta: [
        [1, -2, 0, 2],
        [4, 0, -2, 0],
        [1, 2, -1, -2],
      ],
      y: [2.6, 5.5, 5.8],
    });
  });

  it("DoRA: magnitude init, norms, outputs, and the base output with B = 0", () => {
    const peft = adapted({ method: "dora" });
    const magnitude = layerOf(peft).adapter("default")!.tensors.get("lora_magnitude_vector")!;
    assertClose(magnitude.data, [2.44949, 3.316625, 2.236068], TOL);
    set(peft, {
      "lora_B.weight": [
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    });
    check(peft, { y: T.add(T.matmul(X, f64(W0), { transB: true }), f64(BIAS)).toArray() });
    set(peft, { "lora_A.weight": A, "lora_B.weight": B });
    check(peft, { y: [2.838613, 4.184873, 3.053957] });
    set(peft, { lora_magnitude_vector: [2, 3, 1] });
    check(peft, { y: [2.336068, 3.78536, 1.255214] });
  });

  it("MoSLoRA, and M = I equals LoRA", () => {
    const peft = adapted({ method: "moslora" });
    set(peft, {
      "lora_A.weight": A,
      "lora_B.weight": B,
      "lora_mixer.weight": [
        [1, 2],
        [0, -1],
      ],
    });
    check(peft, {
      delta: [
        [5, -2, -2, 2],
        [-4, 0, 2, 0],
        [-7, 2, 3, -2],
      ],
      y: [8.6, -6.5, -6.2],
    });
    set(peft, {
      "lora_mixer.weight": [
        [1, 0],
        [0, 1],
      ],
    });
    check(peft, { y: [2.6, 5.5, 5.8] });
  });

  it("DyLoRA at k = 1 and k = 2, and frozen-mode gradients", () => {
    const peft = adapted({ method: "dylora" });
    set(peft, { "lora_A.weight": A, "lora_B.weight": B });
    peft.setRank(1);
    check(peft, {
      delta: [
        [2, -4, 0, 4],
        [0, 0, 0, 0],
        [-2, 4, 0, -4],
      ],
      y: [0.6, -0.5, 4.8],
    });
    peft.setRank(2);
    check(peft, { y: [2.6, 5.5, 5.8] });
    // Frozen mode as the trainer's rank hook sets it: a draw of k = 2.
    layerOf(peft).adapter("default")!.setRank(2, true);
    T.sum(peft.forward(X)).backward();
    const tensors = layerOf(peft).adapter("default")!.tensors;
    const ga = tensors.get("lora_A.weight")!.grad!.toArray();
    const gb = tensors.get("lora_B.weight")!.grad!.toArray();
    assert.deepEqual(ga.slice(0, 4), [0, 0, 0, 0]);
    assert.deepEqual([gb[0], gb[2], gb[4]], [0, 0, 0]);
    assert.ok(ga.slice(4).some((v) => v !== 0) && [gb[1], gb[3], gb[5]].some((v) => v !== 0));
  });

  it("Additive: tiled identities and output", () => {
    const peft = adapted({ method: "additive" });
    set(peft, { "lora_A.weight": A, "lora_B.weight": B });
    check(peft, {
      delta: [
        [3, -2, 2, 2],
        [2, 4, -1, 4],
        [-1, 0, -2, 4],
      ],
      y: [2.6, 12.5, 3.8],
    });
  });

  const hadamardFactors = {
    "hadamard_U1.weight": [
      [1, 2],
      [0, 1],
      [1, -1],
    ],
    "hadamard_V1.weight": [
      [1, 0, 2, 1],
      [0, 1, 1, -1],
    ],
    "hadamard_U2.weight": [
      [2, 0],
      [1, 1],
      [0, 3],
    ],
    "hadamard_V2.weight": [
      [1, 1, 0, 0],
      [0, 2, 1, 1],
    ],
  };

  it("Hadamard-Mul (k = 2), unscaled", () => {
    const peft = adapted({ method: "hadamard", r: 4, alpha: 4 });
    set(peft, hadamardFactors);
    check(peft, {
      delta: [
        [2, 4, 0, 0],
        [0, 3, 1, -1],
        [0, -6, 3, 6],
      ],
      y: T.add(
        T.matmul(
          X,
          T.add(
            f64(W0),
            f64([
              [2, 4, 0, 0],
              [0, 3, 1, -1],
              [0, -6, 3, 6],
            ]),
          ),
          { transB: true },
        ),
        f64(BIAS),
      ).toArray(),
    });
  });

  it("Hadamard with tanh", () => {
    const peft = adapted({ method: "hadamard", r: 4, alpha: 4, activation: "tanh" });
    set(peft, hadamardFactors);
    check(peft, {
      delta: [
        [0.734198, 0.929349, 0, 0],
        [0, 0.757828, 0.580026, -0.580026],
        [0, -0.761585, 0.757828, 0.95926],
      ],
      y: T.add(
        T.matmul(
          X,
          T.add(
            f64(W0),
            f64([
              [0.734198, 0.929349, 0, 0],
              [0, 0.757828, 0.580026, -0.580026],
              [0, -0.761585, 0.757828, 0.95926],
            ]),
          ),
          { transB: true },
        ),
        f64(BIAS),
      ).toArray(),
    });
  });

  it("CondLoRA (square): B = W0 Θ_Bᵀ, A = Θ_A W0ᵀ", () => {
    const w = [
      [1, 0, 2],
      [0, 1, 0],
      [1, 1, 0],
    ];
    const peft = getPeftModel(linearWith(w, null), {
      method: "condlora",
      r: 2,
      alpha: 2,
      targetModules: ["proj"],
    });
    const shared = peft.sharedTensors("default");
    shared.get("proj.theta_A.weight")!.data.set([1, 0, 1, 0, 1, 0]);
    shared.get("proj.theta_B.weight")!.data.set([0, 1, 0, 1, 0, -1]);
    const delta = layerOf(peft).adapter("default")!.delta();
    assert.equal(delta.kind, "low-rank");
    if (delta.kind === "low-rank") {
      assertClose(delta.b.data, [0, -1, 1, 0, 1, 1], { ...TOL, what: "B" });
      assertClose(delta.a.data, [3, 0, 1, 0, 1, 1], { ...TOL, what: "A" });
    }
    assertClose(denseDelta(delta).data, [0, -1, -1, 3, 0, 1, 3, 1, 2], { ...TOL, what: "ΔW" });
    // (W0 + ΔW) = [[1,-1,1],[3,1,1],[4,2,2]] on x = [1, 2, -1].
    assertClose(peft.forward(f64([[1, 2, -1]])).data, [-2, 4, 6], { ...TOL, what: "y" });
  });
});
