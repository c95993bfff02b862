import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Conv1D,
  Dropout,
  dropoutModules,
  dropoutStates,
  Embedding,
  init,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  seedDropout,
  setDropoutStates,
} from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator, randn, tensor } from "../../src/tensor/index.js";
import { assertClose, gradCheck } from "../helpers.js";

const f64 = { dtype: "float64" } as const;

class Block extends Module {
  constructor() {
    super();
    this.registerModule("proj", new Linear(3, 2));
    this.registerModule("norm", new LayerNorm(2));
    this.registerModule("layers", new ModuleList([new Linear(2, 2, { bias: false }), new Conv1D(2, 4)]));
  }
}

describe("Module", () => {
  it("names parameters with HF-style dotted paths, skipping absent ones", () => {
    assert.deepEqual(
      new Block().namedParameters().map(([n]) => n),
      [
        "proj.weight",
        "proj.bias",
        "norm.weight",
        "norm.bias",
        "layers.0.weight",
        "layers.1.weight",
        "layers.1.bias",
      ],
    );
  });

  it("train and eval reach every submodule; dropout acts only in training", () => {
    const m = new Block();
    m.eval();
    assert.ok(m.namedModules().every(([, c]) => !c.training));
    const d = new Dropout(0.5, new Generator(1));
    const x = T.ones([100]);
    assert.ok(
      d
        .forward(x)
        .toArray()
        .some((v) => v === 0),
    );
    d.eval();
    assert.deepEqual(d.forward(x).toArray(), x.toArray());
  });

  it("seedDropout gives each Dropout its own stream from one seed; its states round-trip", () => {
    const model = new ModuleList([new Dropout(0.5), new Dropout(0.5), new Dropout(0.5)]);
    const masks = (): number[][] =>
      dropoutModules(model).map(([, d]) => d.forward(T.ones([64])).toArray() as number[]);
    seedDropout(model, 3);
    const first = masks();
    assert.equal(new Set(first.map((m) => m.join())).size, 3, "two sites drew the same mask");
    const saved = dropoutStates(model);
    assert.deepEqual(Object.keys(saved), ["0", "1", "2"]);
    const next = masks();
    seedDropout(model, 3);
    assert.deepEqual(masks(), first);
    setDropoutStates(model, saved);
    assert.deepEqual(masks(), next);
    seedDropout(model, 4);
    assert.notDeepEqual(masks(), first);
  });

  it("stateDict and loadStateDict round trip into a differently initialised model", () => {
    const a = new Block();
    const b = new Block();
    (b.getSubmodule("proj") as Linear).weight.data.fill(9);
    b.loadStateDict(a.stateDict());
    for (const [name, t] of a.stateDict())
      assert.deepEqual(b.stateDict().get(name)!.toArray(), t.toArray(), name);
  });

  it("replacing a child is seen through the list and the paths", () => {
    const m = new Block();
    const list = m.getSubmodule("layers") as ModuleList;
    const swapped = new Linear(2, 2);
    list.replaceChild("0", swapped);
    assert.equal(list.at(0), swapped);
    assert.equal(m.getSubmodule("layers.0"), swapped);
    assert.throws(() => m.getSubmodule("layers.5"), /no submodule "layers.5"/);
  });
});

describe("layers compute their definitions", () => {
  it("Linear is x Wᵀ + b; Conv1D is x W + b", () => {
    const lin = new Linear(3, 2, { dtype: "float64" });
    const x = randn([4, 3], new Generator(1), f64);
    const want = T.add(T.matmul(x, T.transpose(lin.weight)), lin.bias!);
    assertClose(lin.forward(x).data, want.data, { rtol: 1e-14 });
    const conv = new Conv1D(3, 5, { dtype: "float64", rng: new Generator(2) });
    assert.deepEqual(conv.weight.shape, [3, 5]);
    assertClose(conv.forward(x).data, T.add(T.matmul(x, conv.weight), conv.bias).data, { rtol: 1e-14 });
  });

  it("Embedding picks rows for ids of any shape, and its gradient scatter-adds", () => {
    const emb = new Embedding(5, 2, { dtype: "float64" });
    const ids = tensor(Int32Array.from([4, 0, 4, 1]), [2, 2]);
    const out = emb.forward(ids);
    assert.deepEqual(out.shape, [2, 2, 2]);
    assert.deepEqual(Array.from(out.data.subarray(0, 2)), Array.from(emb.weight.data.subarray(8, 10)));
    T.sum(out).backward();
    assert.deepEqual(emb.weight.grad!.toArray(), [1, 1, 1, 1, 0, 0, 0, 0, 2, 2]);
  });

  it("Linear gradients check against finite differences", () => {
    const lin = new Linear(3, 2, { dtype: "float64" });
    gradCheck(
      (x, w, b) => T.add(T.matmul(x, w, { transB: true }), b),
      [randn([2, 4, 3], new Generator(3), f64), lin.weight, lin.bias!],
    );
  });
});

describe("init", () => {
  it("kaiming_uniform(a=√5) stays within 1/√fan_in with the uniform variance", () => {
    const w = init.kaimingUniform_(T.zeros([64, 400]), new Generator(1));
    const bound = 1 / Math.sqrt(400);
    assert.ok(w.toArray().every((v) => Math.abs(v) <= bound));
    const variance = T.mean(T.mul(w, w)).item();
    assert.ok(
      Math.abs(variance / ((bound * bound) / 3) - 1) < 0.03,
      `variance ratio ${variance / ((bound * bound) / 3)}`,
    );
  });

  it("normal has the asked mean and std", () => {
    const w = init.normal_(T.zeros([20000]), new Generator(2), 1, 0.5);
    const m = T.mean(w).item();
    const sd = Math.sqrt(T.mean(T.mul(T.sub(w, m), T.sub(w, m))).item());
    assert.ok(Math.abs(m - 1) < 0.02 && Math.abs(sd - 0.5) < 0.02, `mean ${m}, std ${sd}`);
  });

  it("orthogonal gives orthonormal rows (wide) or columns (tall)", () => {
    for (const shape of [
      [4, 9],
      [9, 4],
      [5, 5],
    ]) {
      const w = init.orthogonal_(T.zeros(shape, f64), new Generator(3));
      const tall = shape[0] >= shape[1];
      const gram = tall ? T.matmul(w, w, { transA: true }) : T.matmul(w, w, { transB: true });
      const n = Math.min(shape[0], shape[1]);
      const eye = Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
      assertClose(gram.data, eye, { atol: 1e-12, what: `gram of [${shape}]` });
    }
  });
});
