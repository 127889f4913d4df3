#!/usr/bin/python3
"""The PyTorch peer of //tools:bench: times full training steps of the same models.

One step = forward, mean cross-entropy loss, backward, SGD (lr 0.1, momentum 0.9, weight decay
5e-4) on a fixed synthetic batch generated once. Prints ONE JSON line on stdout; notes go to
stderr. The models are defined exactly like models/ (parameter counts asserted below).

  /usr/bin/python3 tools/pytorch_bench.py --model=resnet20 --batch=128 --steps=20 \
      [--channels_last] [--bf16] [--threads=N] [--warmup=3] [--input=3x32x32] [--classes=10] \
      [--shortcut=A|B] [--device=cuda [--cudnn_benchmark] [--no_tf32]]

Use Debian's /usr/bin/python3 (python3-torch). Debian's default libblas may be the slow
reference BLAS, so unless LD_LIBRARY_PATH already names it, the script re-executes itself with
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp (libopenblas0-openmp) when that
directory exists; --no_openblas turns this off.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
REEXEC_MARK = "ALD_PYTORCH_BENCH_REEXEC"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="resnet20",
                   help="resnet20|resnet32|resnet56|resnet110|resnet18|vgg11|vgg13|vgg16|lenet5")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before the timed ones")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="torch.set_num_threads (default: cores available)")
    p.add_argument("--channels_last", action="store_true",
                   help="convert model and input to torch.channels_last")
    p.add_argument("--bf16", action="store_true",
                   help="forward and loss under torch.autocast(bfloat16) (CPU: oneDNN bf16), "
                        "fp32 master weights and optimizer: the one-line mixed precision")
    p.add_argument("--input", default=None,
                   help="CxHxW of one sample (default 1x28x28 for lenet5, 3x32x32 otherwise)")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--shortcut", default="A", choices=["A", "B"],
                   help="CIFAR ResNets: A = subsample + zero channel padding, B = 1x1 conv + BN")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: one GPU, the peer of //tools:bench --device=cuda (each timed step "
                        "ends with a device synchronisation, as ours waits for its loss)")
    p.add_argument("--cudnn_benchmark", action="store_true",
                   help="--device=cuda: let cuDNN time its algorithms (ours picks by heuristics)")
    p.add_argument("--no_tf32", action="store_true",
                   help="--device=cuda: fp32 convolutions in true fp32, as ours (PyTorch's "
                        "default, torch.backends.cudnn.allow_tf32, runs them in TF32)")
    p.add_argument("--no_openblas", action="store_true",
                   help="do not re-exec with LD_LIBRARY_PATH=" + OPENBLAS_DIR)
    return p.parse_args()


def maybe_reexec(args):
    """Re-executes with OpenBLAS (OpenMP build) first on LD_LIBRARY_PATH; before torch loads."""
    if (args.no_openblas or args.device != "cpu" or os.environ.get(REEXEC_MARK)
            or not os.path.isdir(OPENBLAS_DIR)):
        return
    if OPENBLAS_DIR in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        return
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(x for x in [OPENBLAS_DIR, env.get("LD_LIBRARY_PATH")] if x)
    env[REEXEC_MARK] = "1"
    print(f"pytorch_bench: re-executing with LD_LIBRARY_PATH={env['LD_LIBRARY_PATH']} "
          "(OpenBLAS, OpenMP build)", file=sys.stderr, flush=True)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


ARGS = parse_args()
maybe_reexec(ARGS)

import torch  # noqa: E402  (after the re-exec, so the dynamic loader sees LD_LIBRARY_PATH)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Models: the same definitions as models/resnet.cc, models/vgg.cc and models/lenet.cc.

class ShortcutPad(nn.Module):
    """He et al.'s option A: subsample by `stride`, zero-pad channels split evenly before/after."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.stride = stride
        self.before = (out_channels - in_channels) // 2
        self.after = out_channels - in_channels - self.before

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    def __init__(self, in_channels, out, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        if stride != 1 or in_channels != out:
            if shortcut == "A":
                self.shortcut = ShortcutPad(in_channels, out, stride)
            else:
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False),
                                              nn.BatchNorm2d(out))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, widths, blocks, shortcut, in_channels, classes):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(widths[0])
        layers, c = [], widths[0]
        for stage, w in enumerate(widths):
            for block in range(blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(c, w, stride, shortcut))
                c = w
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)
        for m in self.modules():  # ModelBuilder::UseKaimingNormalConvInit
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.stages(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


VGG_CONFIGS = {  # Simonyan & Zisserman's A, B and D; "M" = 2x2 max-pool
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


def vgg(depth, in_channels, height, width, classes):
    layers, c, h, w = [], in_channels, height, width
    for v in VGG_CONFIGS[depth]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            h, w = h // 2, w // 2
        else:
            layers += [nn.Conv2d(c, v, 3, 1, 1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
            c = v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, classes))


def lenet5(in_channels, height, width, classes):
    h, w = (height // 2 - 4) // 2, (width // 2 - 4) // 2  # pad-2 conv5, pool, conv5, pool
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(16 * h * w, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, classes))


def build(name, shortcut, c, h, w, classes):
    if name == "resnet18":
        return ResNet([64, 128, 256, 512], 2, "B", c, classes)
    if name.startswith("resnet"):
        depth = int(name[len("resnet"):])
        if depth < 8 or (depth - 2) % 6:
            sys.exit(f"{name}: a CIFAR ResNet has depth 6n + 2 (20, 32, 56, 110)")
        return ResNet([16, 32, 64], (depth - 2) // 6, shortcut, c, classes)
    if name.startswith("vgg") and name[3:].isdigit() and int(name[3:]) in VGG_CONFIGS:
        return vgg(int(name[3:]), c, h, w, classes)
    if name == "lenet5":
        return lenet5(c, h, w, classes)
    sys.exit(f"unknown model {name!r}")


# Parameter counts of models/models_test.cc (BN scale and shift counted, running stats not),
# keyed by (model, shortcut, input, classes); the script refuses to time a model that differs.
EXPECTED_PARAMS = {
    ("resnet20", "A", (3, 32, 32), 10): 269722,
    ("resnet20", "B", (3, 32, 32), 10): 272474,
    ("resnet18", "B", (3, 32, 32), 10): 11173962,
    ("vgg11", "-", (3, 32, 32), 10): 9228362,
    ("vgg16", "-", (3, 32, 32), 10): 14724042,
    ("lenet5", "-", (1, 28, 28), 10): 61706,
}


def main(args):
    # Peak RSS of the interpreter with torch loaded, before any model or data: the fixed cost.
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.input is None:
        args.input = "1x28x28" if args.model == "lenet5" else "3x32x32"
    c, h, w = (int(v) for v in args.input.lower().split("x"))
    shortcut = "B" if args.model == "resnet18" else (
        args.shortcut if args.model.startswith("resnet") else "-")

    model = build(args.model, shortcut, c, h, w, args.classes)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"pytorch_bench: {args.model} (shortcut {shortcut}, input {c}x{h}x{w}, "
          f"{args.classes} classes): {params:,} parameters", file=sys.stderr)
    expected = EXPECTED_PARAMS.get((args.model, shortcut, (c, h, w), args.classes))
    assert expected is None or params == expected, (
        f"{args.model}: {params} parameters, models/ has {expected}")

    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    device = torch.device(args.device)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("pytorch_bench: --device=cuda, but torch sees no CUDA device")
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
        torch.backends.cudnn.allow_tf32 = not args.no_tf32
    model = model.to(device=device, memory_format=memory_format).train()
    x = torch.randn(args.batch, c, h, w).contiguous(memory_format=memory_format).to(device)
    y = torch.randint(0, args.classes, (args.batch,)).to(device)
    # A GPU step is timed to the end of its kernels, not to the return of the launches.
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    sync()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)

    median_ms = statistics.median(times) * 1e3
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps")
                   if "blas" in os.path.basename(line.split()[-1])})
    print(f"pytorch_bench: BLAS libraries mapped: {', '.join(blas) or 'none'}", file=sys.stderr)
    result = {
        "framework": "pytorch",
        "version": torch.__version__,
        "device": args.device,
        "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
        "model": args.model,
        "batch": args.batch,
        "steps": args.steps,
        "threads": torch.get_num_threads(),
        "memory_format": "channels_last" if args.channels_last else "nchw",
        "precision": "bf16_autocast" if args.bf16 else "fp32",
        "cudnn_tf32": (torch.backends.cudnn.allow_tf32 if args.device == "cuda" else None),
        "median_step_ms": round(median_ms, 3),
        "min_step_ms": round(min(times) * 1e3, 3),
        "img_per_s": round(args.batch / (median_ms / 1e3), 1),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "params": params,
        "baseline_rss_bytes": baseline_rss,
        "input": f"{c}x{h}x{w}",
        "classes": args.classes,
        "shortcut": shortcut,
        "warmup": args.warmup,
        "blas": [os.path.realpath(b) for b in blas],
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu_capability": next((line.split(":")[-1].strip() for line in
                                torch.__config__.show().splitlines() if "CPU capability" in line),
                               None),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(ARGS)
