#!/usr/bin/env python3
"""Generate bce-auth-v1 golden vectors with the official Python SDK's own signer.

    python3 -m pip install baidu-aip==4.16.13 chardet
    python3 crates/protocol/tests/vectors/make_bce_vectors.py > crates/protocol/tests/vectors/bce_auth_v1.json

The SDK's signer is `AipBase._getAuthHeaders(method, url, params, headers)` in
`aip/base.py`. It reads the clock through `datetime.datetime.utcnow()`; this script
replaces the module's `datetime` with a fixed clock and wraps `hmac.new` to record the
canonical request the SDK signs, so the Rust test can show which line differs. Nothing
here reimplements the algorithm: every expected value comes from the SDK.
"""

import datetime as real_datetime
import hmac as real_hmac
import json
import sys
import types

import aip
import aip.base as base

SDK_VERSION = "4.16.13"


def fixed_clock(timestamp):
    """A stand-in for the `datetime` module whose utcnow() is `timestamp`."""
    moment = real_datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")

    class FixedDateTime(real_datetime.datetime):
        @classmethod
        def utcnow(cls):
            return moment

    return types.SimpleNamespace(datetime=FixedDateTime)


def sign(ak, sk, method, url, params, headers, timestamp):
    """Calls the SDK's signer and returns (headers it produced, canonical request)."""
    recorded = []

    def recording_new(key, msg=None, digestmod=None):
        recorded.append(msg.decode("utf-8"))
        return real_hmac.new(key, msg, digestmod)

    base.datetime = fixed_clock(timestamp)
    base.hmac = types.SimpleNamespace(new=recording_new)
    try:
        client = base.AipBase("appid", ak, sk)
        client._isCloudUser = True  # the SDK's switch to signing
        params = dict(params)
        out = client._getAuthHeaders(method, url, params, dict(headers))
    finally:
        base.datetime = real_datetime
        base.hmac = real_hmac
    # recorded[0] is the auth prefix (signing key input), recorded[1] the canonical request.
    return out, params, recorded[0], recorded[1]


CASES = [
    # (name, ak, sk, method, url, params, extra headers, timestamp)
    ("dehaze, no query (what our client sends)", "AKIDexample", "SKexample",
     "POST", "https://aip.baidubce.com/rest/2.0/image-process/v1/dehaze", [], [],
     "2023-11-14T22:13:20Z"),
    ("image_quality_enhance with the SDK's own query", "0123456789abcdef", "fedcba9876543210",
     "POST", "https://aip.baidubce.com/rest/2.0/image-process/v1/image_quality_enhance",
     [("aipSdk", "python"), ("aipVersion", "4.15.13")], [],
     "2024-02-29T00:00:00Z"),
    ("contrast_enhance, lower-case method", "ak", "sk",
     "post", "https://aip.baidubce.com/rest/2.0/image-process/v1/contrast_enhance", [], [],
     "1999-12-31T23:59:59Z"),
    ("colourize on a loopback port: host is signed without the port", "ak-local", "sk-local",
     "POST", "http://127.0.0.1:8080/rest/2.0/image-process/v1/colourize", [], [],
     "2026-01-02T03:04:05Z"),
    ("path prefix of a proxy", "ak", "sk",
     "POST", "https://Proxy.Example:8443/baidu/rest/2.0/image-process/v1/dehaze", [], [],
     "2026-06-30T12:00:00Z"),
    ("query needing quote_plus: space, plus, slash, equals, unicode", "ak", "s/k+=",
     "GET", "https://aip.baidubce.com/oauth/2.0/token",
     [("b", "x y"), ("a", "1+2/3=4"), ("c", "\u56fe\u50cf"), ("tilde~", "-_.~")], [],
     "2023-11-14T22:13:20Z"),
    ("query keys that sort differently before and after encoding", "ak", "sk",
     "POST", "https://aip.baidubce.com/rest/2.0/image-process/v1/dehaze",
     [("a_b", "1"), ("a b", "2"), ("a-b", "3"), ("A", "4"), ("a", "")], [],
     "2023-11-14T22:13:20Z"),
    ("extra headers are signed too, in the caller's order before host", "ak", "sk",
     "POST", "https://aip.baidubce.com/rest/2.0/image-process/v1/dehaze", [],
     [("Content-Type", "application/x-www-form-urlencoded"), ("X-Custom", "  padded value  ")],
     "2023-11-14T22:13:20Z"),
    ("header values with characters quote() escapes", "ak", "sk",
     "PUT", "https://aip.baidubce.com/rest/2.0/image-process/v1/dehaze", [],
     [("x-bce-meta-note", "a:b/c d\u00e9")],
     "2023-11-14T22:13:20Z"),
    ("Python's strip() also removes the ASCII separators \\x1c-\\x1f", "ak", "sk",
     "POST", "https://aip.baidubce.com/rest/2.0/image-process/v1/dehaze", [],
     [("x-sep", "\x1c\x1fvalue\x1e \t")],
     "2023-11-14T22:13:20Z"),
    ("path with characters quote() escapes", "ak", "sk",
     "POST", "https://aip.baidubce.com/rest/2.0/image process/v1/a:b~c", [], [],
     "2023-11-14T22:13:20Z"),
]


def main():
    vectors = []
    for name, ak, sk, method, url, params, headers, timestamp in CASES:
        out, signed_params, prefix, canonical = sign(ak, sk, method, url, params, headers, timestamp)
        path = base.urlparse(url).path
        vectors.append({
            "name": name,
            "access_key": ak,
            "secret_key": sk,
            "method": method,
            "url": url,
            "path": path,
            "query": [[k, v] for k, v in signed_params.items()],
            # Every header the SDK signed, in its order (its dict order), values as sent.
            "headers": [[k, v] for k, v in out.items() if k != "authorization"],
            "timestamp": timestamp,
            "expire_secs": 1800,
            "auth_prefix": prefix,
            "canonical_request": canonical,
            "authorization": out["authorization"],
        })
    json.dump({
        "generator": "crates/protocol/tests/vectors/make_bce_vectors.py",
        "sdk": "baidu-aip==%s (aip/base.py AipBase._getAuthHeaders)" % SDK_VERSION,
        "python": sys.version.split()[0],
        "vectors": vectors,
    }, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
