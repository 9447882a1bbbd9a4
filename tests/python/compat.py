#!/usr/bin/env python3
"""The official Python SDK (baidu-aip 4.16.13) against the emulator.

usage: compat.py BASE_URL IMAGE_DIR
IMAGE_DIR holds photo.jpg and photo.png (made by the Rust test that runs this script).
Only the SDK's URLs are changed; everything else is the SDK as shipped. Last line:
'N passed, M failed'; exit status 1 if anything failed.
"""
import base64, json, os, random, subprocess, sys, urllib.parse, urllib.request, zlib, struct

from aip import AipImageProcess
from aip.base import AipBase

base, images = sys.argv[1], sys.argv[2]
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {str(detail)[:300]}"))


def png_header(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))


AipBase._AipBase__accessTokenUrl = base + "/oauth/2.0/token"
for attr, path in [("imageQualityEnhance", "image_quality_enhance"), ("dehaze", "dehaze"),
                   ("contrastEnhance", "contrast_enhance"), ("colourize", "colourize")]:
    setattr(AipImageProcess, f"_AipImageProcess__{attr}Url", f"{base}/rest/2.0/image-process/v1/{path}")
client = AipImageProcess("appid", "ak", "sk")
ops = {"enhance": client.imageQualityEnhance, "dehaze": client.dehaze,
       "contrast": client.contrastEnhance, "colourize": client.colourize}

for ext, magic in [("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG")]:
    data = open(os.path.join(images, f"photo.{ext}"), "rb").read()
    for name, call in ops.items():
        out = call(data)
        img = base64.b64decode(out.get("image", "")) if isinstance(out.get("image"), str) else b""
        check(f"{name} {ext}: image of the same format, integer log_id",
              img.startswith(magic) and isinstance(out.get("log_id"), int), {k: v for k, v in out.items() if k != "image"})

rng = random.Random(7)
cases = [
    ("empty image", b"", 216200),
    ("random bytes", bytes(rng.randrange(256) for _ in range(2000)), 216201),
    ("a GIF", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,"
              b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", 216201),
    ("an image over 4 MiB of base64", png_header(320, 240) + bytes(3 * 1024 * 1024 + 100), 216202),
    ("a side over 4096 px", png_header(5000, 2000), 216202),
    ("a 4:1 image", png_header(800, 200), 216202),
]
for name, data, code in cases:
    out = client.dehaze(data)
    check(f"dehaze of {name} -> {code}", out.get("error_code") == code, out)

# A bad token, sent directly: 110. The SDK itself recovers from 110 by fetching a new token.
body = urllib.parse.urlencode({"image": base64.b64encode(open(os.path.join(images, "photo.png"), "rb").read())}).encode()
req = urllib.request.Request(f"{base}/rest/2.0/image-process/v1/dehaze?access_token=bogus", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
out = json.loads(urllib.request.urlopen(req, timeout=60).read())
check("a bad token -> 110", out.get("error_code") == 110, out)
client._authObj["access_token"] = "expired-or-bogus"
out = client.dehaze(open(os.path.join(images, "photo.png"), "rb").read())
check("the SDK refreshes its token after 110 and succeeds", "image" in out, {k: v for k, v in out.items() if k != "image"})

# The spec's curl examples (with the image-process paths), replayed.
token = json.loads(urllib.request.urlopen(
    f"{base}/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk", timeout=30).read())["access_token"]
encoded = urllib.parse.quote(base64.b64encode(open(os.path.join(images, "photo.jpg"), "rb").read()).decode(), safe="")
for path in ["image_quality_enhance", "dehaze", "contrast_enhance", "colourize"]:
    try:
        r = subprocess.run(["curl", "-s", "-i", "-k",
                            f"{base}/rest/2.0/image-process/v1/{path}?access_token={token}",
                            "--data", f"image={encoded}", "-H", "Content-Type:application/x-www-form-urlencoded"],
                           capture_output=True, timeout=60)
        head, _, payload = r.stdout.partition(b"\r\n\r\n")
        out = json.loads(payload)
        check(f"curl {path}: HTTP 200 with an image", head.startswith(b"HTTP/1.1 200") and "image" in out, head[:100])
    except FileNotFoundError:
        print(f"skip curl {path}: curl is not installed")

failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
