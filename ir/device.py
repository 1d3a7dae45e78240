"""Where torch trains: on CUDA when the run asks for it (STITCHC_DEVICE=cuda, set by `--device cuda`) and torch
sees a GPU, else on the CPU. (ONNX Runtime's providers follow the same setting: runtime.providers.)"""

from __future__ import annotations

import os


def torch_device():
    """torch.device("cuda") when STITCHC_DEVICE=cuda and torch.cuda.is_available(), else torch.device("cpu")."""
    import torch

    if os.environ.get("STITCHC_DEVICE", "cpu") == "cuda" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
