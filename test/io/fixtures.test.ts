import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSafetensors, SafetensorsFile } from "../../src/io/index.js";
import * as T from "../../src/tensor/index.js";
import { peftFixturesDir } from "../fixtures.js";
import { assertClose } from "../helpers.js";

interface ManifestFile {
  sha256: string;
  tensors?: Record<string, { shape: number[]; dtype: string }>;
}
interface Manifest {
  fixtures: Record<string, { files: Record<string, ManifestFile> }>;
}

const root = peftFixturesDir();
const present = existsSync(join(root, "manifest.json"));
// CI always has ../shared; elsewhere a missing copy skips these tests instead of failing them.
const skip = !present && !process.env.CI ? `no PEFT fixtures at ${root}` : false;

const TORCH_NAMES: Record<string, string> = {
  F64: "float64",
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  I64: "int64",
  I32: "int32",
  I16: "int16",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};

describe("the shared PEFT fixtures read back as their manifest says", { skip }, () => {
  const manifest = present
    ? (JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")) as Manifest)
    : null;
  const files = Object.entries(manifest?.fixtures ?? {}).flatMap(([fixture, f]) =>
    Object.entries(f.files)
      .filter(([rel]) => rel.endsWith(".safetensors"))
      .map(([rel, info]) => ({ path: join(root, fixture, rel), info })),
  );

  it("lists safetensors files", () => assert.ok(files.length >= 20, `only ${files.length} files`));

  for (const { path, info } of files) {
    it(path.slice(root.length + 1), () => {
      const sha = createHash("sha256").update(readFileSync(path)).digest("hex");
      assert.equal(sha, info.sha256, "file content differs from the manifest's checksum");
      const f = SafetensorsFile.open(path);
      try {
        assert.deepEqual(f.names().sort(), Object.keys(info.tensors ?? {}).sort());
        for (const [name, want] of Object.entries(info.tensors ?? {})) {
          const t = f.info(name);
          assert.deepEqual(t.shape, want.shape, `${name} shape`);
          assert.equal(TORCH_NAMES[t.dtype], want.dtype, `${name} dtype`);
          const values = f.read(name);
          assert.equal(
            values.size,
            want.shape.reduce((n, d) => n * d, 1),
          );
          if (values.isFloat)
            assert.ok(values.toArray().every(Number.isFinite), `${name} has non-finite values`);
        }
      } finally {
        f.close();
      }
    });
  }

  it("float32 outputs agree with their float64 twins", () => {
    for (const fixture of ["base_model", "a_lora_r8_qv", "d_dora", "e_loha_r4"]) {
      const out = loadSafetensors(join(root, fixture, "outputs.safetensors"));
      const key = fixture === "base_model" ? "out_base" : "out_adapter";
      assertClose(out.get(key)!.data, out.get(`${key}_f64`)!.data, { rtol: 1e-4, atol: 1e-5, what: fixture });
    }
  });

  it("values of the LoRA gradient fixture: our forward and autograd reproduce PEFT's numbers", () => {
    const dir = join(root, "grad_lora_linear");
    const base = loadSafetensors(join(dir, "base_model", "model.safetensors"));
    const params = loadSafetensors(join(dir, "params.safetensors"));
    const inputs = loadSafetensors(join(dir, "inputs.safetensors"));
    const outputs = loadSafetensors(join(dir, "outputs.safetensors"));
    const grads = loadSafetensors(join(dir, "grads_f64.safetensors"));
    const f64 = (t: T.Tensor): T.Tensor => t.to("float64");
    const w = f64(base.get("proj.weight")!);
    const b = f64(base.get("proj.bias")!);
    const a = f64(params.get("param.proj.lora_A.default.weight")!).requireGrad();
    const bb = f64(params.get("param.proj.lora_B.default.weight")!).requireGrad();
    const x = f64(inputs.get("x")!).requireGrad();
    // r = 4, alpha = 8 (the fixture's adapter_config.json): scaling 2.
    const lora = T.mulScalar(T.matmul(T.matmul(x, a, { transB: true }), bb, { transB: true }), 8 / 4);
    const out = T.add(T.add(T.matmul(x, w, { transB: true }), b), lora);
    assertClose(out.data, outputs.get("out")!.data, { rtol: 1e-5, atol: 1e-5, what: "out" });
    const loss = T.sum(T.mul(out, f64(inputs.get("G")!)));
    assertClose([loss.item()], outputs.get("loss")!.data, { rtol: 1e-5, what: "loss" });
    loss.backward();
    assertClose(a.grad!.data, grads.get("grad.proj.lora_A.default.weight")!.data, {
      rtol: 1e-10,
      atol: 1e-10,
    });
    assertClose(bb.grad!.data, grads.get("grad.proj.lora_B.default.weight")!.data, {
      rtol: 1e-10,
      atol: 1e-10,
    });
    assertClose(x.grad!.data, grads.get("grad.x")!.data, { rtol: 1e-10, atol: 1e-10 });
  });
});
