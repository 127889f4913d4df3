#!/usr/bin/python3
"""Reads a safetensors checkpoint with PyTorch alone: prints each tensor's name, dtype, shape,
sum and L2 norm, and with --compare checks them against a JSON file of expected values.

It deliberately uses only `json` and `torch.frombuffer` (no `safetensors` module), as an
independent second reader of the files checkpoint/safetensors.cc writes. Run it with Debian's
/usr/bin/python3, which has PyTorch.

  /usr/bin/python3 tools/read_checkpoint.py run/checkpoint-100.safetensors
  /usr/bin/python3 tools/read_checkpoint.py FILE --compare expected.json

The --compare file: {"metadata": {key: value, ...},              (optional; a subset to match)
                     "tensors": {name: {"dtype": "F32", "shape": [..], "values": [..],
                                        "sum": s, "l2": n}, ...}}  (all tensors, in file order)
"""
import argparse
import json
import math
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "I32": torch.int32}


def unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r} in the header")
        result[key] = value
    return result


def read(path):
    """Returns (metadata, {name: tensor}) with tensors in file order."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes, fewer than the 8 of the header length")
    (header_size,) = struct.unpack("<Q", data[:8])
    if 8 + header_size > len(data):
        raise ValueError(f"{path}: header says {header_size} bytes, file has {len(data) - 8}")
    header = json.loads(data[8:8 + header_size].decode("utf-8"), object_pairs_hook=unique_keys)
    metadata = header.pop("__metadata__", {})
    data_start = 8 + header_size
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = math.prod(info["shape"])
        itemsize = torch.tensor([], dtype=dtype).element_size()
        if end - begin != count * itemsize or data_start + end > len(data):
            raise ValueError(f"{path}: tensor '{name}' has bad data_offsets {info['data_offsets']}")
        # A copy: frombuffer shares the buffer, and the tensor must outlive `data`'s slices.
        raw = bytearray(data[data_start + begin:data_start + end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"])
    return metadata, tensors


def checksums(tensor):
    values = tensor.to(torch.float64)
    return values.sum().item(), values.norm().item()


def dtype_name(dtype):
    return next(name for name, d in DTYPES.items() if d == dtype)


def compare(metadata, tensors, expected):
    """Returns a list of mismatches (empty when everything matches)."""
    problems = []
    for key, value in expected.get("metadata", {}).items():
        if metadata.get(key) != value:
            problems.append(f"metadata '{key}' is {metadata.get(key)!r}, expected {value!r}")
    want = expected["tensors"]
    if list(tensors) != list(want):
        problems.append(f"tensors {list(tensors)} in the file, expected {list(want)}")
    for name in want:
        if name not in tensors:
            continue
        tensor, spec = tensors[name], want[name]
        if dtype_name(tensor.dtype) != spec["dtype"] or list(tensor.shape) != spec["shape"]:
            problems.append(f"tensor '{name}' is {dtype_name(tensor.dtype)}{list(tensor.shape)}, "
                            f"expected {spec['dtype']}{spec['shape']}")
            continue
        # Doubles hold every F32, BF16 and I32 value exactly, so the comparison is exact.
        expected_values = torch.tensor(spec["values"], dtype=torch.float64).reshape(spec["shape"])
        mismatched = (tensor.to(torch.float64) != expected_values).nonzero()
        if len(mismatched):
            index = tuple(mismatched[0].tolist())
            problems.append(f"tensor '{name}' at {list(index)} is {tensor[index].item()}, "
                            f"expected {expected_values[index].item()}")
        total, l2 = checksums(tensor)
        for what, have, expect in (("sum", total, spec["sum"]), ("l2", l2, spec["l2"])):
            if not math.isclose(have, expect, rel_tol=1e-12, abs_tol=1e-12):
                problems.append(f"tensor '{name}' {what} is {have!r}, expected {expect!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a .safetensors file")
    parser.add_argument("--compare", metavar="FILE.json", help="expected values to check")
    args = parser.parse_args()
    if sys.byteorder != "little":
        sys.exit("torch.frombuffer reads native byte order; safetensors is little-endian")

    metadata, tensors = read(args.checkpoint)
    for key, value in sorted(metadata.items()):
        print(f"metadata {key} = {value}")
    for name, tensor in tensors.items():
        total, l2 = checksums(tensor)
        print(f"{name}  {dtype_name(tensor.dtype)}{list(tensor.shape)}  "
              f"sum={total:.17g}  l2={l2:.17g}")
    if args.compare:
        with open(args.compare) as f:
            problems = compare(metadata, tensors, json.load(f))
        for problem in problems:
            print(f"MISMATCH: {problem}")
        if problems:
            sys.exit(1)
        print(f"all {len(tensors)} tensors match {args.compare}")


if __name__ == "__main__":
    main()
