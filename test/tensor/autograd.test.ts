import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { record } from "../../src/tensor/autograd.js";
import * as T from "../../src/tensor/index.js";
import { Generator, randn, tensor } from "../../src/tensor/index.js";
import { gradCheck } from "../helpers.js";

describe("autograd", () => {
  it("gradients accumulate across backward calls until zeroed", () => {
    const x = tensor([1, 2, 3]).requireGrad();
    T.sum(T.mul(x, x)).backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
    T.sum(T.mul(x, 3)).backward();
    assert.deepEqual(x.grad!.toArray(), [5, 7, 9]);
    x.zeroGrad();
    T.sum(x).backward();
    assert.deepEqual(x.grad!.toArray(), [1, 1, 1]);
  });

  it("a tensor used twice gets both contributions", () => {
    const x = tensor([2]).requireGrad();
    const y = T.add(T.mul(x, x), T.exp(T.log(x)));
    y.backward();
    assert.deepEqual(x.grad!.toArray(), [5]);
  });

  it("backward with an explicit output gradient", () => {
    const x = tensor([1, 2]).requireGrad();
    T.mul(x, 3).backward(tensor([1, 10]));
    assert.deepEqual(x.grad!.toArray(), [3, 30]);
    assert.throws(() => T.mul(x, 3).backward(), /needs a scalar/);
  });

  it("noGrad and detach cut the graph", () => {
    const x = tensor([1, 2]).requireGrad();
    const y = T.noGrad(() => T.mul(x, 2));
    assert.equal(y.requiresGrad, false);
    assert.equal(T.mul(x.detach(), 2).requiresGrad, false);
    assert.equal(T.mul(x, 2).requiresGrad, true);
  });

  it("frees the graph after backward; a second backward is an error", () => {
    const x = tensor([1, 2]).requireGrad();
    const y = T.sum(T.mul(x, x));
    y.backward();
    assert.throws(() => y.backward(), /second time/);
  });

  it("only leaves that require grad receive .grad", () => {
    const w = tensor([1, 2]).requireGrad();
    const frozen = tensor([3, 4]);
    T.sum(T.mul(w, frozen)).backward();
    assert.deepEqual(w.grad!.toArray(), [3, 4]);
    assert.equal(frozen.grad, null);
  });

  it("the gradient checker rejects a wrong backward rule", () => {
    // square with a deliberately wrong derivative (x instead of 2x)
    const badSquare = (x: T.Tensor): T.Tensor =>
      record(
        T.noGrad(() => T.mul(x, x)),
        "badSquare",
        [x],
        (g) => [T.mul(g, x)],
      );
    const x = randn([4], new Generator(1), { dtype: "float64" });
    assert.throws(() => gradCheck(badSquare, [x]), /gradient of input 0/);
  });
});
