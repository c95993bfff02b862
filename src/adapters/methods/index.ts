import type { MethodName } from "../config.js";
import type { AdapterMethod } from "../method.js";
import { additive } from "./additive.js";
import { condlora } from "./condlora.js";
import { dora } from "./dora.js";
import { dylora } from "./dylora.js";
import { hadamard } from "./hadamard.js";
import { hadamardAdd } from "./hadamard-add.js";
import { loha } from "./loha.js";
import { lora } from "./lora.js";
import { moslora } from "./moslora.js";

/** Every method by its config name; adding a method is one file and one line here. */
export const METHODS: Readonly<Record<MethodName, AdapterMethod>> = {
  lora,
  dora,
  moslora,
  condlora,
  dylora,
  additive,
  hadamard,
  "hadamard-add": hadamardAdd,
  loha,
};
