#!/usr/bin/python3
"""Generates the safetensors fixture for the KnowledgeDistillation.Serialization tests.

Run from this directory with a Python that has PyTorch (tested with PyTorch 1.13 CPU):

    /usr/bin/python3 generate_safetensors_fixture.py

Writes two files next to this script:

  pytorch_fixture.safetensors  tensors of every supported dtype and a few edge-case shapes
                               ("dtypes.*", "shapes.*"), plus the state_dict of a tiny
                               conv + batch-norm + linear PyTorch model under the prefix "teacher."
  pytorch_fixture.json         the expected contents, element by element (flattened, row-major;
                               non-finite floats as the strings "nan", "inf", "-inf"), the model's
                               architecture, a fixed input and the model's output on it (eval mode).

The `safetensors` Python package is not installed on the machine that generated the fixture, so the
file is written here by hand. The format is small and fully specified
(https://github.com/huggingface/safetensors#format): an 8-byte little-endian unsigned header length N,
N bytes of UTF-8 JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
(offsets relative to the data section) plus an optional "__metadata__" string map, padded with spaces
so the data section starts at a multiple of 8, then the raw little-endian tensor bytes. This writer
follows the reference implementation: tensors ordered by decreasing element size, then by name, laid
out contiguously. The bytes come straight from PyTorch's tensors (`tensor.numpy().tobytes()`; bfloat16,
which NumPy lacks, through a bit-preserving view as int16). The script re-reads the file with an
independent parser before writing the JSON, as a self-check.
"""

import json
import math
import os
import struct

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
TENSORS_PATH = os.path.join(HERE, "pytorch_fixture.safetensors")
EXPECTED_PATH = os.path.join(HERE, "pytorch_fixture.json")

DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


class TinyTeacher(nn.Module):
    """conv(1->2, 3x3, padding 1) -> batch norm -> relu -> flatten -> linear(32 -> 3), on 1x4x4 inputs."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


def raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def save_safetensors(tensors, path, metadata=None):
    order = sorted(tensors, key=lambda name: (-tensors[name].element_size(), name))
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name in order:
        t = tensors[name]
        data = raw_bytes(t)
        assert len(data) == t.numel() * t.element_size()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def read_back(path):
    """An independent reader: checks the layout and returns {name: (dtype, shape, bytes)}."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    header.pop("__metadata__", None)
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1]) for v in header.values())
    position = 0
    for begin, end in spans:
        assert begin == position and end >= begin
        position = end
    assert position == len(data)
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in header.items()}


def json_value(x):
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def flat(t):
    t = t.detach().cpu()
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32):
        t = t.double()  # exact: every half, bfloat16 and float32 value is a double
    return [json_value(v) for v in t.flatten().tolist()]


def main():
    torch.manual_seed(1234)
    f32 = torch.linspace(-3, 3, 24, dtype=torch.float32)
    f32[0] = -0.0
    f32[1] = 1e-45  # smallest float32 subnormal
    f32[2] = float("inf")
    f32[3] = float("-inf")
    f32[4] = float("nan")
    f32[5] = torch.finfo(torch.float32).max
    f32[6] = torch.finfo(torch.float32).min
    f32[7] = 1.0 / 3.0
    tensors = {
        "dtypes.f32": f32.reshape(2, 3, 4),
        "dtypes.f64": torch.tensor([math.pi, -1e300, 5e-324], dtype=torch.float64),
        "dtypes.f16": torch.tensor([[0.5, -65504.0], [6e-8, 1.0 / 3.0]], dtype=torch.float16),
        "dtypes.bf16": torch.tensor([1.0, -2.5, 3.0e38, 1.0 / 3.0], dtype=torch.bfloat16),
        "dtypes.i64": torch.tensor([[2**62 + 1, -(2**63)], [2**63 - 1, -7]], dtype=torch.int64),
        "dtypes.i32": torch.tensor([-(2**31), 0, 2**31 - 1], dtype=torch.int32),
        "dtypes.i16": torch.tensor([-32768, -1, 258, 32767], dtype=torch.int16),
        "dtypes.i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "dtypes.u8": torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8),
        "dtypes.bool": torch.tensor([[True, False, True], [False, False, True]]),
        "shapes.scalar": torch.tensor(42.5, dtype=torch.float32),
        "shapes.empty": torch.zeros(0, 3, dtype=torch.float32),
    }

    model = TinyTeacher()
    with torch.no_grad():
        model.train()
        for _ in range(3):  # non-trivial running statistics and num_batches_tracked == 3
            model(torch.randn(8, 1, 4, 4) * 2 + 0.5)
        model.eval()
        x = torch.randn(2, 1, 4, 4)
        y = model(x)
    for name, t in model.state_dict().items():
        tensors["teacher." + name] = t.clone()

    metadata = {"format": "pt", "producer": "generate_safetensors_fixture.py", "torch": torch.__version__}
    save_safetensors(tensors, TENSORS_PATH, metadata)

    back = read_back(TENSORS_PATH)
    assert set(back) == set(tensors)
    for name, t in tensors.items():
        dtype, shape, data = back[name]
        assert dtype == DTYPES[t.dtype] and shape == list(t.shape) and data == raw_bytes(t), name

    expected = {
        "file": os.path.basename(TENSORS_PATH),
        "metadata": metadata,
        "tensors": {
            name: {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "values": flat(t)} for name, t in sorted(tensors.items())
        },
        "model": {
            "prefix": "teacher.",
            "architecture": TinyTeacher.__doc__,
            "input": {"shape": list(x.shape), "values": flat(x)},
            "output": {"shape": list(y.shape), "values": flat(y)},
        },
    }
    with open(EXPECTED_PATH, "w") as f:
        json.dump(expected, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {TENSORS_PATH} ({os.path.getsize(TENSORS_PATH)} bytes) and {EXPECTED_PATH}")


if __name__ == "__main__":
    main()
