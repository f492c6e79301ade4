#!/usr/bin/env python3
"""Reference timing: torchvision's fcos_resnet50_fpn (the closest torchvision relative of ATSS: anchor-free,
centerness, ResNet-50 + FPN), weights None, 81 classes, 320x320, batch 2, one thread.

Prints one JSON line: {"train_step_ms": [...], "inference_ms": [...]} (one value per repetition).
Installed by bench/compare.ts via Debian python3-torch 1.13 / python3-torchvision 0.14, never by tests or CI.
"""
import json
import sys
import time

import torch
import torchvision
from torchvision.models.detection import fcos_resnet50_fpn

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
size = int(sys.argv[2]) if len(sys.argv) > 2 else 320
torch.set_num_threads(1)
torch.manual_seed(0)

# min/max size = size keeps torchvision's transform from resizing the 320x320 input.
model = fcos_resnet50_fpn(weights=None, weights_backbone=None, num_classes=81, min_size=size, max_size=size)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
images = [torch.rand(3, size, size) for _ in range(2)]
targets = [
    {"boxes": torch.tensor([[10.0, 20.0, 120.0, 200.0], [150.0, 40.0, 300.0, 180.0]]), "labels": torch.tensor([3, 17])},
    {"boxes": torch.tensor([[30.0, 30.0, 90.0, 110.0]]), "labels": torch.tensor([5])},
]


def train_step():
    model.train()
    losses = model(images, targets)
    loss = sum(losses.values())
    opt.zero_grad()
    loss.backward()
    opt.step()


def infer():
    model.eval()
    with torch.no_grad():
        model(images)


train_step()  # warm-up
infer()
train_ms, infer_ms = [], []
for _ in range(reps):
    t0 = time.perf_counter(); train_step(); train_ms.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter(); infer(); infer_ms.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"train_step_ms": train_ms, "inference_ms": infer_ms, "torch": torch.__version__,
                  "torchvision": torchvision.__version__, "threads": torch.get_num_threads()}))
