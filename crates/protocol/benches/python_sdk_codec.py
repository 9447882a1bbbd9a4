#!/usr/bin/env python3
"""The official Python SDK's codec cost, for docs/benchmarks.md: what `baidu-aip` does per
call (base64 + `requests`' form encoding of `data=`, then `json.loads` + b64decode of the
reply), on the same random inputs and sizes as benches/codec.rs. Throughput is MB/s of
base64 text (10^6 bytes), best of 5 runs.

    python3 crates/protocol/benches/python_sdk_codec.py
"""
import base64
import json
import random
import timeit

from requests.models import RequestEncodingMixin

SIZES = [("100KB", 100 * 1024), ("1MB", 1024 * 1024), ("3MB", 3 * 1024 * 1024)]


def main():
    rng = random.Random(0x5EED)
    print("%-6s %14s %14s %14s" % ("size", "encode MB/s", "b64 only MB/s", "decode MB/s"))
    for name, n in SIZES:
        image = rng.randbytes(n)
        b64_len = (n + 2) // 3 * 4
        reply = json.dumps({"log_id": 6876747463538438254,
                            "image": base64.b64encode(image).decode()}).encode()

        def encode():
            # AipImageProcess.dehaze: b64encode(image).decode(); requests: data= -> urlencode
            RequestEncodingMixin._encode_params({"image": base64.b64encode(image).decode()})

        def b64_only():
            base64.b64encode(image).decode()

        def decode():
            # AipBase._proccessResult: json.loads(content.decode()); the caller b64decodes
            base64.b64decode(json.loads(reply.decode())["image"])

        rates = []
        for fn in (encode, b64_only, decode):
            runs = max(1, int(3e7 // n))
            best = min(timeit.repeat(fn, number=runs, repeat=5)) / runs
            rates.append(b64_len / best / 1e6)
        print("%-6s %14.0f %14.0f %14.0f" % (name, *rates))


if __name__ == "__main__":
    main()
