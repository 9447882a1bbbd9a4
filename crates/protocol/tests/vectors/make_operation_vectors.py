#!/usr/bin/env python3
"""Golden request bodies of every operation, as the official Python SDK sends them.

    pip download --no-deps baidu-aip==4.16.13 && unzip baidu_aip-*.whl -d sdk
    PYTHONPATH=sdk python3 crates/protocol/tests/vectors/make_operation_vectors.py [OUT_DIR]

Each case calls the SDK's own method (`aip/imageprocess.py`) with `_request` replaced by a
recorder, then prepares the recorded form with `requests` exactly as `_request` would post
it. Where the SDK has no method (Python lacks `color_enhance`, and the `url` variants of
the seed's four), the form is the one its sibling methods build, `{"image"|"url": ...}`
then the options. `inpainting` comes from the Node SDK (`make_inpainting_vector.js`):
the Python SDK's form-encoded rectangles are a known defect.
"""

import base64
import json
import os
import struct
import sys

import requests
from aip import AipImageProcess

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "operations")
URL = "https://example.com/photos/haze.jpg?size=large&v=2"


def png_header(width, height):
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
            + struct.pack(">II", width, height) + bytes([8, 2, 0, 0, 0, 0, 0, 0, 0]))


def pattern(n):
    """Every byte value, so the base64 holds `+`, `/` and padding."""
    return bytes((i * 7 + 3) % 256 for i in range(n))


IMAGE = png_header(300, 300) + pattern(1000)
STYLE = png_header(64, 64) + pattern(101)
PDF = b"%PDF-1.4\n" + pattern(500)


class Recorder(AipImageProcess):
    def __init__(self):
        super().__init__("appid", "ak", "sk")
        self.recorded = None

    def _request(self, url, data, headers=None):
        self.recorded = (url, data)
        return {}


def sibling(path, data):
    """A form the SDK would build for `path` had it a method for it."""
    return ("https://aip.baidubce.com/rest/2.0/image-process/v1/" + path, data)


def b64(data):
    return base64.b64encode(data).decode()


def cases(sdk):
    def call(method, *args):
        getattr(sdk, method)(*args)
        return sdk.recorded

    # name, operation, input, params, how the SDK is called, (url, data)
    yield ("image_quality_enhance", "image_quality_enhance", "image", {}, "imageQualityEnhance(image)",
           call("imageQualityEnhance", IMAGE))
    yield ("dehaze", "dehaze", "image", {}, "dehaze(image)", call("dehaze", IMAGE))
    yield ("dehaze_url", "dehaze", "url", {}, "none: the form of removeMoireV1Url",
           sibling("dehaze", {"url": URL}))
    yield ("contrast_enhance", "contrast_enhance", "image", {}, "contrastEnhance(image)",
           call("contrastEnhance", IMAGE))
    yield ("colourize", "colourize", "image", {}, "colourize(image)", call("colourize", IMAGE))
    yield ("stretch_restore", "stretch_restore", "image", {}, "stretchRestore(image)",
           call("stretchRestore", IMAGE))
    yield ("image_definition_enhance", "image_definition_enhance", "image", {},
           "imageDefinitionEnhance(image)", call("imageDefinitionEnhance", IMAGE))
    yield ("color_enhance", "color_enhance", "image", {}, "none: Python has no color_enhance",
           sibling("color_enhance", {"image": b64(IMAGE)}))
    yield ("style_trans", "style_trans", "image", {"option": "color_pencil"},
           "styleTrans(image, {'option': 'color_pencil'})",
           call("styleTrans", IMAGE, {"option": "color_pencil"}))
    yield ("selfie_anime", "selfie_anime", "image", {}, "selfieAnime(image)",
           call("selfieAnime", IMAGE))
    yield ("selfie_anime_mask", "selfie_anime", "image", {"type": "anime_mask", "mask_id": "3"},
           "selfieAnime(image, {'type': 'anime_mask', 'mask_id': 3})",
           call("selfieAnime", IMAGE, {"type": "anime_mask", "mask_id": 3}))
    yield ("sky_seg", "sky_seg", "image", {}, "skySeg(image)", call("skySeg", IMAGE))
    yield ("remove_moire", "remove_moire", "image", {}, "removeMoireV1(image)",
           call("removeMoireV1", IMAGE))
    yield ("remove_moire_url", "remove_moire", "url", {}, "removeMoireV1Url(url)",
           call("removeMoireV1Url", URL))
    yield ("remove_moire_pdf", "remove_moire", "pdf", {"pdf_file_num": "2"},
           "removeMoireV1Pdf(pdf, {'pdf_file_num': 2})",
           call("removeMoireV1Pdf", PDF, {"pdf_file_num": 2}))
    yield ("doc_repair", "doc_repair", "image", {}, "docRepairV1(image)",
           call("docRepairV1", IMAGE))
    yield ("doc_repair_url", "doc_repair", "url", {}, "docRepairV1Url(url)",
           call("docRepairV1Url", URL))
    yield ("denoise", "denoise", "image", {"option": "120"}, "denoiseV1(image, 120)",
           call("denoiseV1", IMAGE, 120))
    yield ("denoise_url", "denoise", "url", {"option": "0"}, "denoiseV1Url(url, 0)",
           call("denoiseV1Url", URL, 0))
    yield ("customize_stylization", "customize_stylization", "image", {"style_id": "7"},
           "customizeStylizationV1(image, {'style_id': 7})",
           call("customizeStylizationV1", IMAGE, {"style_id": 7}))
    yield ("customize_stylization_url", "customize_stylization", "url", {"style_id": "29"},
           "customizeStylizationV1Url(url, {'style_id': 29})",
           call("customizeStylizationV1Url", URL, {"style_id": 29}))
    yield ("customize_stylization_style_image", "customize_stylization", "image", {"style": "STYLE"},
           "customizeStylizationV1(image, {'style': base64(style)})",
           call("customizeStylizationV1", IMAGE, {"style": b64(STYLE)}))


def main():
    os.makedirs(HERE, exist_ok=True)
    sdk = Recorder()
    manifest = []
    for name, op, kind, params, how, (url, data) in cases(sdk):
        assert url.endswith("/" + op), (url, op)
        body = requests.Request("POST", url, data=data).prepare().body
        with open(os.path.join(HERE, name + ".body"), "w") as f:
            f.write(body)
        manifest.append({"name": name, "operation": op, "input": kind, "params": params,
                         "python_sdk": how})
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"generator": "crates/protocol/tests/vectors/make_operation_vectors.py",
                   "sdk": "baidu-aip 4.16.13", "requests": requests.__version__,
                   "url": URL, "cases": manifest}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
