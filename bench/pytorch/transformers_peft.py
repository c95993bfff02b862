"""The llama workloads of bench/workloads/ in PyTorch + transformers + PEFT.

transformers' LlamaForCausalLM / Qwen2ForCausalLM built from a config in memory (random weights,
float32, nothing downloaded), PEFT LoRA r=8 alpha=16 (no dropout) on q_proj,v_proj, or DoRA with
use_dora=True; loss from labels=ids (next-token cross-entropy over the shifted tokens), backward,
AdamW over the adapter parameters. Attention is transformers' eager path unless --attn sdpa;
checkpointed workloads use gradient_checkpointing_enable() (torch.utils.checkpoint per layer).
Shapes, batch, steps and learning rate as bench/workloads/llama-adapter.ts and real-shapes.ts.
One workload per process, so that peak RSS is its own.
Run: python bench/pytorch/transformers_peft.py WORKLOAD [--attn eager|sdpa] [--json]
"""

import sys

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from measure import median_ms, report

SHAPES = {
    "llama-bench": (LlamaConfig, LlamaForCausalLM, dict(
        vocab_size=4096, hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=1e-5, rope_theta=10000,
        tie_word_embeddings=False)),
    "smollm2-135m": (LlamaConfig, LlamaForCausalLM, dict(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, rms_norm_eps=1e-5, rope_theta=100000,
        tie_word_embeddings=True)),
    "qwen2.5-0.5b": (Qwen2Config, Qwen2ForCausalLM, dict(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000,
        tie_word_embeddings=True)),
}

# name: (shape, batch, seq, checkpointing, dora, lr, timed steps, warm-up steps)
WORKLOADS = {
    "llama-lora": ("llama-bench", 8, 128, False, False, 1e-3, 10, 3),
    "llama-dora": ("llama-bench", 8, 128, False, True, 1e-3, 10, 3),
    "smollm2-135m-lora": ("smollm2-135m", 4, 512, False, False, 1e-4, 3, 1),
    "smollm2-135m-lora-ckpt": ("smollm2-135m", 4, 512, True, False, 1e-4, 3, 1),
    "smollm2-135m-lora-2048": ("smollm2-135m", 1, 2048, True, False, 1e-4, 3, 1),
    "qwen2.5-0.5b-lora": ("qwen2.5-0.5b", 4, 512, True, False, 1e-4, 3, 1),
}


def main(name, attn):
    shape, batch, seq, ckpt, dora, lr, steps, warmup = WORKLOADS[name]
    config_cls, model_cls, fields = SHAPES[shape]
    torch.manual_seed(1)
    model = model_cls(config_cls(**fields, attn_implementation=attn, max_position_embeddings=4096))
    if ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], use_dora=dora)
    model = get_peft_model(model, lora)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    ids = torch.randint(0, fields["vocab_size"], (batch, seq))

    def step():
        opt.zero_grad()
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()

    report(name, median_ms(step, steps, warmup), batch * seq, model=f"transformers + PEFT, {attn}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--json"]
    attn = args[args.index("--attn") + 1] if "--attn" in args else "eager"
    main(args[0] if args else "smollm2-135m-lora", attn)
