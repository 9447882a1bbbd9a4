#!/usr/bin/env python3
"""The official Python SDK (baidu-aip 4.16.13) against the emulator.

usage: compat.py BASE_URL IMAGE_DIR
IMAGE_DIR holds photo.jpg and photo.png (made by the Rust test that runs this script).
Only the SDK's URLs are changed; everything else is the SDK as shipped. Every method of
`AipImageProcess` is called with a JPEG and a PNG; the `...Url` methods fetch from a
loopback file server this script starts. Last line: 'N passed, M failed'; exit status 1
if anything failed.
"""
import base64, functools, http.server, json, os, random, struct, subprocess, sys, threading
import urllib.parse, urllib.request, zlib

from aip import AipImageProcess
from aip.base import AipBase

base, images = sys.argv[1], sys.argv[2]
results = []
OFFICIAL_HOST = "https://aip.baidubce.com"


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {str(detail)[:300]}"))


def brief(out):
    """The reply without its (long) images, for failure messages."""
    if not isinstance(out, dict):
        return out
    return {k: (v if k not in ("image", "labelmap", "scoremap") else f"<{len(str(v))} chars>") for k, v in out.items()}


def png_header(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))


def decoded(out, field="image"):
    value = out.get(field) if isinstance(out, dict) else None
    return base64.b64decode(value) if isinstance(value, str) else b""


# Point every URL of the SDK (its name-mangled class attributes) at the emulator.
AipBase._AipBase__accessTokenUrl = base + "/oauth/2.0/token"
for attr, value in list(vars(AipImageProcess).items()):
    if isinstance(value, str) and value.startswith(OFFICIAL_HOST):
        setattr(AipImageProcess, attr, base + value[len(OFFICIAL_HOST):])
client = AipImageProcess("appid", "ak", "sk")


def color_enhance(image, options=None):
    """The SDK has no color_enhance method (a known defect); its generic post() is used."""
    data = {"image": base64.b64encode(image).decode()}
    data.update(options or {})
    return client.post(f"{base}/rest/2.0/image-process/v1/color_enhance", data)


# A loopback file server for the url variants, serving IMAGE_DIR.
class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=images))
threading.Thread(target=files.serve_forever, daemon=True).start()
files_url = f"http://127.0.0.1:{files.server_address[1]}"

# Every image method of the SDK, with valid parameters. (name, call, reply check)
image_calls = [
    ("imageQualityEnhance", lambda d: client.imageQualityEnhance(d)),
    ("dehaze", lambda d: client.dehaze(d)),
    ("contrastEnhance", lambda d: client.contrastEnhance(d)),
    ("colourize", lambda d: client.colourize(d)),
    ("stretchRestore", lambda d: client.stretchRestore(d)),
    ("imageDefinitionEnhance", lambda d: client.imageDefinitionEnhance(d)),
    ("color_enhance via post()", lambda d: color_enhance(d)),
    ("styleTrans cartoon", lambda d: client.styleTrans(d, {"option": "cartoon"})),
    ("styleTrans gothic", lambda d: client.styleTrans(d, {"option": "gothic"})),
    ("selfieAnime", lambda d: client.selfieAnime(d)),
    ("selfieAnime anime_mask 3", lambda d: client.selfieAnime(d, {"type": "anime_mask", "mask_id": 3})),
    ("removeMoireV1", lambda d: client.removeMoireV1(d)),
    ("customizeStylizationV1 style_id 7", lambda d: client.customizeStylizationV1(d, {"style_id": 7})),
    ("docRepairV1", lambda d: client.docRepairV1(d)),
    ("denoiseV1 60", lambda d: client.denoiseV1(d, 60)),
]

for ext, magic in [("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG")]:
    data = open(os.path.join(images, f"photo.{ext}"), "rb").read()
    for name, call in image_calls:
        out = call(data)
        check(f"{name} {ext}: image of the same format, integer log_id",
              decoded(out).startswith(magic) and isinstance(out.get("log_id"), int), brief(out))
    out = client.skySeg(data)
    check(f"skySeg {ext}: labelmap and scoremap PNGs, integer log_id",
          decoded(out, "labelmap").startswith(b"\x89PNG") and decoded(out, "scoremap").startswith(b"\x89PNG")
          and isinstance(out.get("log_id"), int), brief(out))
    # The style image of custom stylisation: the other photo.
    other = open(os.path.join(images, "photo.png" if ext == "jpg" else "photo.jpg"), "rb").read()
    out = client.customizeStylizationV1(data, {"style": base64.b64encode(other).decode()})
    check(f"customizeStylizationV1 with a style image {ext}", decoded(out).startswith(magic), brief(out))

# inpaintingByMask sends its rectangles as a broken form body (rectangle=left&rectangle=top...):
# the emulator answers a clear parameter error, as the service does, instead of guessing.
data = open(os.path.join(images, "photo.png"), "rb").read()
out = client.inpaintingByMask(data, [{"left": 10, "top": 10, "width": 40, "height": 30}])
check("inpaintingByMask (the SDK's form body) -> 216100 naming the JSON body",
      out.get("error_code") == 216100 and "json" in out.get("error_msg", "").lower(), brief(out))
# The same request as the service documents it: a JSON body.
token = json.loads(urllib.request.urlopen(
    f"{base}/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk", timeout=30).read())["access_token"]


def post_json(path, payload):
    req = urllib.request.Request(f"{base}/rest/2.0/image-process/v1/{path}?access_token={token}",
                                 data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=60).read())


for ext, magic in [("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG")]:
    img = base64.b64encode(open(os.path.join(images, f"photo.{ext}"), "rb").read()).decode()
    out = post_json("inpainting", {"image": img, "rectangle": [{"left": 10, "top": 10, "width": 40, "height": 30},
                                                              {"left": 100, "top": 50, "width": 20, "height": 20}]})
    check(f"inpainting JSON body {ext}", decoded(out).startswith(magic), brief(out))
out = post_json("inpainting", {"url": f"{files_url}/photo.png", "rectangle": [{"left": 0, "top": 0, "width": 8, "height": 8}]})
check("inpainting JSON body with url", decoded(out).startswith(b"\x89PNG"), brief(out))
out = post_json("inpainting", {"image": img, "rectangle": [{"left": 300, "top": 200, "width": 40, "height": 50}]})
check("inpainting with a rectangle outside the image -> 216100", out.get("error_code") == 216100, brief(out))
out = post_json("inpainting", {"image": img})
check("inpainting without rectangle -> 216101", out.get("error_code") == 216101, brief(out))

# The url variants, fetched by the emulator from the loopback file server.
url_calls = [
    ("removeMoireV1Url", lambda u: client.removeMoireV1Url(u)),
    ("customizeStylizationV1Url", lambda u: client.customizeStylizationV1Url(u, {"style_id": 3})),
    ("docRepairV1Url", lambda u: client.docRepairV1Url(u)),
    ("denoiseV1Url", lambda u: client.denoiseV1Url(u, 100)),
]
for ext, magic in [("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG")]:
    for name, call in url_calls:
        out = call(f"{files_url}/photo.{ext}")
        check(f"{name} {ext}", decoded(out).startswith(magic), brief(out))
url_errors = [
    ("a missing file", f"{files_url}/missing.png", 282113),
    ("not http(s)", "ftp://127.0.0.1/photo.png", 282111),
    ("not a URL", "photo.png", 282111),
    ("a non-loopback host (the emulator fetches only loopback URLs)", "http://192.0.2.1/photo.png", 282111),
    ("over 1024 bytes", f"{files_url}/{'x' * 1100}.png", 282111),
]
for name, url, code in url_errors:
    out = client.docRepairV1Url(url)
    check(f"docRepairV1Url of {name} -> {code}", out.get("error_code") == code, brief(out))

# remove_moire's PDF input: the emulator renders no PDFs and says so.
out = client.removeMoireV1Pdf(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", {"pdf_file_num": 1})
check("removeMoireV1Pdf -> 216201 saying the emulator renders no PDFs",
      out.get("error_code") == 216201 and "pdf" in out.get("error_msg", "").lower(), brief(out))

# Parameter errors: 216101 for a missing one, 216100 for an invalid one.
param_cases = [
    ("styleTrans without option", lambda: client.styleTrans(data), 216101),
    ("styleTrans option=sepia", lambda: client.styleTrans(data, {"option": "sepia"}), 216100),
    ("selfieAnime type=manga", lambda: client.selfieAnime(data, {"type": "manga"}), 216100),
    ("selfieAnime mask_id=9", lambda: client.selfieAnime(data, {"type": "anime_mask", "mask_id": 9}), 216100),
    ("selfieAnime mask_id=x", lambda: client.selfieAnime(data, {"type": "anime_mask", "mask_id": "x"}), 216100),
    ("denoiseV1 option=201", lambda: client.denoiseV1(data, 201), 216100),
    ("denoiseV1 option=-1", lambda: client.denoiseV1(data, -1), 216100),
    ("denoiseV1 option=strong", lambda: client.denoiseV1(data, "strong"), 216100),
    ("denoiseV1 without option", lambda: client.post(f"{base}/rest/2.0/image-process/v1/denoise",
                                                      {"image": base64.b64encode(data).decode()}), 216101),
    ("customizeStylizationV1 without style_id or style", lambda: client.customizeStylizationV1(data), 216101),
    ("customizeStylizationV1 style_id=30", lambda: client.customizeStylizationV1(data, {"style_id": 30}), 216100),
    ("customizeStylizationV1 style=<not an image>",
     lambda: client.customizeStylizationV1(data, {"style": base64.b64encode(b"not an image").decode()}), 216201),
    ("docRepairV1 with neither image nor url", lambda: client.post(f"{base}/rest/2.0/image-process/v1/doc_repair", {}),
     216101),
]
for name, call, code in param_cases:
    out = call()
    check(f"{name} -> {code}", out.get("error_code") == code, brief(out))

# The seed's image limits, unchanged.
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
for name, payload, code in cases:
    out = client.dehaze(payload)
    check(f"dehaze of {name} -> {code}", out.get("error_code") == code, out)
# And the new operations' own limits.
limit_cases = [
    ("denoiseV1 of a 2000 px side (1999 at most)", lambda: client.denoiseV1(png_header(2000, 1000), 10), 216202),
    ("docRepairV1 of a 40 px side (50 at least)", lambda: client.docRepairV1(png_header(40, 100)), 216202),
    ("stretchRestore of a 5:1 image (4:1 at most)", lambda: client.stretchRestore(png_header(1000, 200)), 216202),
    ("removeMoireV1 of a 4097 px side", lambda: client.removeMoireV1(png_header(4097, 2000)), 216202),
]
for name, call, code in limit_cases:
    out = call()
    check(f"{name} -> {code}", out.get("error_code") == code, brief(out))

# A bad token, sent directly: 110. The SDK itself recovers from 110 by fetching a new token.
body = urllib.parse.urlencode({"image": base64.b64encode(open(os.path.join(images, "photo.png"), "rb").read())}).encode()
req = urllib.request.Request(f"{base}/rest/2.0/image-process/v1/dehaze?access_token=bogus", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
out = json.loads(urllib.request.urlopen(req, timeout=60).read())
check("a bad token -> 110", out.get("error_code") == 110, out)
client._authObj["access_token"] = "expired-or-bogus"
out = client.dehaze(open(os.path.join(images, "photo.png"), "rb").read())
check("the SDK refreshes its token after 110 and succeeds", "image" in out, brief(out))

# The spec's curl examples (with the image-process paths), replayed.
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

files.shutdown()
failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
