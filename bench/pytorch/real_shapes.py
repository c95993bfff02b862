"""The real-shape workloads of bench/workloads/real-shapes.ts in PyTorch + transformers + PEFT.

Random-weight models with the published shapes of SmolLM2-135M and Qwen2.5-0.5B, built from their
configs in memory (nothing downloaded), LoRA r=8 alpha=16 on q_proj,v_proj, next-token loss, AdamW
1e-4, eager attention; one workload per process so that peak RSS is its own.
Run: python bench/pytorch/real_shapes.py smollm2-135m-lora|smollm2-135m-lora-ckpt|smollm2-135m-lora-2048|qwen2.5-0.5b-lora
"""

import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

SHAPES = {
    "smollm2-135m": (LlamaConfig, LlamaForCausalLM, dict(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, rms_norm_eps=1e-5, rope_theta=100000,
        tie_word_embeddings=True)),
    "qwen2.5-0.5b": (Qwen2Config, Qwen2ForCausalLM, dict(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000,
        tie_word_embeddings=True)),
}

WORKLOADS = {
    "smollm2-135m-lora": ("smollm2-135m", 4, 512, False),
    "smollm2-135m-lora-ckpt": ("smollm2-135m", 4, 512, True),
    "smollm2-135m-lora-2048": ("smollm2-135m", 1, 2048, True),
    "qwen2.5-0.5b-lora": ("qwen2.5-0.5b", 4, 512, True),
}


def main(name):
    shape, batch, seq, ckpt = WORKLOADS[name]
    config_cls, model_cls, fields = SHAPES[shape]
    torch.manual_seed(1)
    model = model_cls(config_cls(**fields, attn_implementation="eager", max_position_embeddings=4096))
    if ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(0, fields["vocab_size"], (batch, seq))

    def step():
        opt.zero_grad()
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()

    step()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    ms = statistics.median(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name} torch {torch.__version__} threads {torch.get_num_threads()}: {ms:.0f} ms/step, "
          f"{batch * seq / ms * 1000:.0f} tokens/s, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m-lora")
