import { describe, it } from "node:test";
import { Generator } from "../../src/tensor/index.js";
import { gradCheck } from "../helpers.js";
import { opCases } from "./op-cases.js";

describe("gradients match central finite differences in float64", () => {
  for (const c of opCases) {
    it(c.name, () => {
      gradCheck(c.f, c.make(new Generator(11)));
    });
  }
});
