#!/usr/bin/env python3
"""Reference timing: torchvision's fcos_resnet50_fpn (the closest torchvision relative of ATSS: anchor-free,
centerness, ResNet-50 + FPN), weights None, 81 classes, 320x320, batch 2, REF_THREADS threads (default 1).

  python3 torchvision_fcos.py [reps] [size]   prints one JSON line: {"train_step_ms": [...], "inference_ms": [...]}
  python3 torchvision_fcos.py --serve [size]  warms up, prints {"ready": ...}, then answers each stdin line
                                              'train' / 'infer' with one JSON line ({..._ms, cpu_ms}); 'quit' ends.
Installed by bench/compare.ts via Debian python3-torch 1.13 / python3-torchvision 0.14, never by tests or CI.
The train step is what one would write in PyTorch: forward with losses, zero_grad, backward, AdamW step.
"""
import json
import os
import resource
import sys
import time

import torch
import torchvision
from torchvision.models.detection import fcos_resnet50_fpn

serve = "--serve" in sys.argv
args = [a for a in sys.argv[1:] if not a.startswith("--")]
reps = int(args[0]) if len(args) > 0 and not serve else 3
size = int(args[-1]) if (serve and args) else (int(args[1]) if len(args) > 1 else 320)
torch.set_num_threads(int(os.environ.get("REF_THREADS", "1")))
torch.manual_seed(0)

# min/max size = size keeps torchvision's transform from resizing the input.
model = fcos_resnet50_fpn(weights=None, weights_backbone=None, num_classes=81, min_size=size, max_size=size)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
images = [torch.rand(3, size, size) for _ in range(2)]
s = size / 320.0
targets = [
    {"boxes": torch.tensor([[10.0, 20.0, 120.0, 200.0], [150.0, 40.0, 300.0, 180.0]]) * s, "labels": torch.tensor([3, 17])},
    {"boxes": torch.tensor([[30.0, 30.0, 90.0, 110.0]]) * s, "labels": torch.tensor([5])},
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


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


info = {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads()}
train_step()  # warm-up
infer()
if serve:
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd == "train":
            ms, cpu = timed(train_step)
            print(json.dumps({"train_step_ms": ms, "cpu_ms": cpu, "peak_rss_mib": peak_rss_mib()}), flush=True)
        elif cmd == "infer":
            ms, cpu = timed(infer)
            print(json.dumps({"inference_ms": ms, "cpu_ms": cpu, "peak_rss_mib": peak_rss_mib()}), flush=True)
        else:
            print(json.dumps({"error": "unknown command " + repr(cmd)}), flush=True)
else:
    train_ms, infer_ms = [], []
    for _ in range(reps):
        train_ms.append(timed(train_step)[0])
        infer_ms.append(timed(infer)[0])
    print(json.dumps({"train_step_ms": train_ms, "inference_ms": infer_ms, **info}))
