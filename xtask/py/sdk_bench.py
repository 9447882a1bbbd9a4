#!/usr/bin/env python3
"""The official Python SDK's side of `cargo xtask bench-client`.

usage: sdk_bench.py BASE_URL IMAGE_FILE CALLS
Points the SDK's token and dehaze URLs at BASE_URL (an emulator with --echo), makes one
warm-up call, then CALLS sequential dehaze calls. Prints JSON: calls/s and CPU seconds
per call of this process.
"""
import json, sys, time
from aip import AipImageProcess
from aip.base import AipBase

base, path, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
AipBase._AipBase__accessTokenUrl = base + "/oauth/2.0/token"
AipImageProcess._AipImageProcess__dehazeUrl = base + "/rest/2.0/image-process/v1/dehaze"
client = AipImageProcess("appid", "ak", "sk")
image = open(path, "rb").read()
out = client.dehaze(image)
assert "image" in out, out
cpu0, t0 = time.process_time(), time.perf_counter()
for _ in range(calls):
    out = client.dehaze(image)
    assert "image" in out, out
wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
print(json.dumps({"calls_per_s": calls / wall, "cpu_ms_per_call": cpu / calls * 1e3}))
