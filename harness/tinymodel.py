"""A tiny, randomly initialised llama checkpoint + BPE tokenizer, built locally in seconds.

Tests use it wherever the real model's quality does not matter, so the suite stays fast; it goes
through exactly the same loading path (local directory, safetensors, no remote code) as any base.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_CORPUS = [
    "def f(xs):\n    total = 0\n    for i in range(len(xs)):\n        total += xs[i]\n    return total\n",
    "function add(a, b) { return a + b; }\nconst g = (x) => x * 2;\n",
    "public int size() { return this.count; } if (x == null) { return 0; }",
    "func (s *Server) Run() error { for i := 0; i < n; i++ { } return nil }",
    "fn main() { let x = vec![1, 2, 3]; println!(\"{}\", x.len()); }",
    "int main(void) { int i; for (i = 0; i < 10; i++) { printf(\"%d\", i); } return 0; }",
    "query find functions that sum a list Fix: The bug is here because the loop bound is wrong.",
]


def build_tiny_model(directory: Path, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|im_end|>", unk_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(directory))
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(directory), safe_serialization=True)
    return directory


def build_tiny_adapter(model_dir: Path, directory: Path, seed: int = 0, version: str = "tiny-1") -> Path:
    """A loadable adapter for the tiny base (LoRA on its top two layers at their zero start, heads at their
    seeded initialisation, manifest), written by the real trainer without training steps: every file the
    runtime checks and loads, in seconds; for tests about which adapter runs and what it shows, not what
    it finds."""
    from manyskills.training.trainer import TrainConfig, Trainer

    config = TrainConfig(dataset="", out=str(directory), model=str(model_dir), lora_layers=[2, 3], feature_layer=4,
                         max_tokens=128, device="cpu", seed=seed, version=version, activation_cache=None)
    return Trainer(config, progress=lambda message: None).save(directory)
