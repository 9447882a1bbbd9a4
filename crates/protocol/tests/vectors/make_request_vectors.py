#!/usr/bin/env python3
"""Generate golden HTTP requests with Python's `requests` (what the official SDK sends).

    python3 -m pip install baidu-aip==4.16.13 chardet   # brings `requests`
    python3 crates/protocol/tests/vectors/make_request_vectors.py [OUT_DIR]

Writes `requests/manifest.json` and one `requests/<name>.http` per case. URL and body come
from `requests.Request(...).prepare()`, i.e. Python's own base64 and form encoding, not
from our code. Deliberate differences from the SDK, documented in docs/wire-protocol.md:
the token request is a POST with the credentials in the body (the SDK puts the secret in
the query of a GET), our operation query carries only `access_token` (the SDK adds
`aipSdk` and `aipVersion`), and we add `Accept` and `User-Agent`.
"""

import base64
import json
import os
import struct
import sys

import requests

# Output directory: the checked-in one, or the first argument (the Rust test compares).
HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "requests")
USER_AGENT = "golden-test/1.0"


def png_header(width, height):
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
            + struct.pack(">II", width, height) + bytes([8, 2, 0, 0, 0, 0, 0, 0, 0]))


def image(width, height, extra):
    """The test image: a PNG header then `extra` bytes of a fixed pattern (every byte value,
    so the base64 holds `+`, `/` and padding)."""
    return png_header(width, height) + bytes((i * 7 + 3) % 256 for i in range(extra))


def render(prepared, extra_headers):
    headers = {k.lower(): v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    headers.update(extra_headers)
    lines = ["%s %s" % (prepared.method, prepared.url)]
    lines += ["%s: %s" % (k, headers[k]) for k in sorted(headers)]
    body = prepared.body or ""
    if isinstance(body, bytes):
        body = body.decode("ascii")
    return "\n".join(lines) + "\n\n" + body


OPS = [
    # name, operation, endpoint, token, width, height, extra bytes
    ("dehaze", "dehaze", "https://aip.baidubce.com",
     "24.6c5e1ff107f0e8bcef8c46d3424a0e78.2592000.1485516651.282335-8574074", 300, 300, 256),
    ("image_quality_enhance_loopback", "image_quality_enhance", "http://127.0.0.1:8080",
     "24.abc", 800, 800, 1000),
    ("contrast_enhance_behind_proxy_prefix", "contrast_enhance", "https://proxy.example/baidu",
     "24.tok+plus/slash=~tilde", 64, 192, 3),
    ("colourize", "colourize", "https://aip.baidubce.com", "24.x", 800, 267, 1),
]


def main():
    os.makedirs(HERE, exist_ok=True)
    manifest = []
    extra = {"accept": "application/json", "user-agent": USER_AGENT}
    for name, op, endpoint, token, w, h, n in OPS:
        url = "%s/rest/2.0/image-process/v1/%s" % (endpoint, op)
        data = {"image": base64.b64encode(image(w, h, n)).decode()}
        prepared = requests.Request("POST", url, data=data, params={"access_token": token}).prepare()
        with open(os.path.join(HERE, name + ".http"), "w") as f:
            f.write(render(prepared, extra))
        manifest.append({"name": name, "kind": "operation", "operation": op, "endpoint": endpoint,
                         "token": token, "width": w, "height": h, "extra_bytes": n})
    for name, endpoint, ak, sk in [
        ("token", "https://aip.baidubce.com", "AKexample", "SK+/=example"),
        ("token_loopback", "http://127.0.0.1:8080", "ak", "sk"),
    ]:
        data = {"grant_type": "client_credentials", "client_id": ak, "client_secret": sk}
        prepared = requests.Request("POST", endpoint + "/oauth/2.0/token", data=data).prepare()
        with open(os.path.join(HERE, name + ".http"), "w") as f:
            f.write(render(prepared, {"accept": "application/json"}))
        manifest.append({"name": name, "kind": "token", "endpoint": endpoint,
                         "api_key": ak, "secret_key": sk})
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"generator": "crates/protocol/tests/vectors/make_request_vectors.py",
                   "requests": requests.__version__, "user_agent": USER_AGENT,
                   "cases": manifest}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
