#!/usr/bin/env python3
"""Writes small valid GGUF files (every value type, a few tensor types) as fuzz seeds.

Usage: fuzz/make_gguf_seeds.py OUTPUT_DIR   (see docs/FUZZING.md)
"""
import struct, sys, os

def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b

def kv(key, t, payload):
    return s(key) + struct.pack("<I", t) + payload

def arr(et, items):
    return struct.pack("<IQ", et, len(items)) + b"".join(items)

def gguf(version, kvs, tensors, align=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs)
    data, infos = b"", b""
    for name, dims, typ, nbytes in tensors:
        data += b"\0" * (-len(data) % align)
        infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", typ, len(data))
        data += bytes((i * 37 + 11) & 0xFF for i in range(nbytes))
    out += infos
    out += b"\0" * (-len(out) % align)
    return out + data

kvs = [
    kv("general.architecture", 8, s("llama")),
    kv("u8", 0, struct.pack("<B", 200)), kv("i8", 1, struct.pack("<b", -5)),
    kv("u16", 2, struct.pack("<H", 60000)), kv("i16", 3, struct.pack("<h", -300)),
    kv("u32", 4, struct.pack("<I", 4000000000)), kv("i32", 5, struct.pack("<i", -7)),
    kv("f32", 6, struct.pack("<f", 1.5)), kv("bool", 7, b"\1"),
    kv("u64", 10, struct.pack("<Q", 2**63 + 5)), kv("i64", 11, struct.pack("<q", -2**40)),
    kv("f64", 12, struct.pack("<d", 3.25)),
    kv("strings", 9, arr(8, [s("a"), s(""), s("<0x0A>")])),
    kv("ints", 9, arr(5, [struct.pack("<i", v) for v in (1, -2, 3)])),
    kv("floats", 9, arr(6, [struct.pack("<f", v) for v in (0.5, -1.0)])),
    kv("nested", 9, arr(9, [arr(4, [struct.pack("<I", 1)]), arr(8, [s("x")])])),
]
tensors = [("a", [4, 2], 0, 32), ("b", [32], 2, 18), ("c", [256, 1], 12, 144), ("d", [8], 30, 16)]
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
open(f"{out}/all-types-v3.gguf", "wb").write(gguf(3, kvs, tensors))
open(f"{out}/all-types-v2.gguf", "wb").write(gguf(2, kvs, tensors))
align = [kv("general.alignment", 4, struct.pack("<I", 64))]
open(f"{out}/align64.gguf", "wb").write(gguf(3, align, tensors[:2], align=64))
open(f"{out}/empty.gguf", "wb").write(gguf(3, [], []))
