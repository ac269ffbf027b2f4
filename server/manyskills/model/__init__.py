"""The resident model: base LM + one multi-task LoRA adapter + small skill heads.

Everything here is offline: hub access is disabled before transformers is imported, remote code
is never trusted and weights are read only from safetensors.
"""

import os

# Set before any transformers/huggingface_hub import so no code path can reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
