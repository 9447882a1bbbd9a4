#!/usr/bin/env python3
"""OpenCV baselines for `cargo xtask quality` and `cargo xtask bench-engine`.

quality DIR: for every `NAME.OP.in.png` in DIR writes `NAME.OP.BASELINE.png`:
  dehaze   -> dcp        (He et al.: 15x15 dark channel, top-0.1 % airlight, omega 0.95,
                           guided filter r=60 eps=1e-3 with cv2.boxFilter, t0 0.1)
  contrast -> clahe      (cv2 CLAHE clip 2.0, 8x8 tiles, on Lab L)
           -> stretch    (global 1st-99th percentile stretch over all channels)
  enhance  -> bicubic    (cv2.resize INTER_CUBIC 2x)
bench W H REPEATS: prints JSON timings (seconds, median) of dcp, clahe, bicubic, and JPEG
  imencode (quality 92) / imdecode at W x H.
"""
import json, os, sys, time
import numpy as np
import cv2

cv2.setNumThreads(1)


def guided(I, p, r, eps):
    k = (2 * r + 1, 2 * r + 1)
    mean = lambda x: cv2.boxFilter(x, cv2.CV_64F, k)
    mi, mp = mean(I), mean(p)
    cov = mean(I * p) - mi * mp
    var = mean(I * I) - mi * mi
    a = cov / (var + eps)
    b = mp - a * mi
    return mean(a) * I + mean(b)


def dcp(bgr):
    I = bgr.astype(np.float64) / 255
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
    dark = cv2.erode(I.min(axis=2), kernel)
    n = max(1, dark.size // 1000)
    idx = np.argsort(dark.ravel())[-n:]
    A = I.reshape(-1, 3)[idx].max(axis=0)
    t = 1 - 0.95 * cv2.erode((I / A).min(axis=2), kernel)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float64) / 255
    t = np.maximum(guided(grey, t, 60, 1e-3), 0.1)
    J = (I - A) / t[..., None] + A
    return (J.clip(0, 1) * 255 + 0.5).astype(np.uint8)


def clahe(bgr):
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def stretch(bgr):
    lo, hi = np.percentile(bgr, (1, 99))
    out = (bgr.astype(np.float64) - lo) / max(hi - lo, 1) * 255
    return out.clip(0, 255).round().astype(np.uint8)


def bicubic(bgr):
    return cv2.resize(bgr, (bgr.shape[1] * 2, bgr.shape[0] * 2), interpolation=cv2.INTER_CUBIC)


BASELINES = {"dehaze": [("dcp", dcp)], "contrast": [("clahe", clahe), ("stretch", stretch)],
             "enhance": [("bicubic", bicubic)]}


def quality(d):
    for f in sorted(os.listdir(d)):
        if not f.endswith(".in.png"):
            continue
        name, op = f[:-len(".in.png")].rsplit(".", 1)
        img = cv2.imread(os.path.join(d, f), cv2.IMREAD_COLOR)
        for tag, fn in BASELINES.get(op, []):
            cv2.imwrite(os.path.join(d, f"{name}.{op}.{tag}.png"), fn(img))


def bench(w, h, repeats):
    rng = np.random.default_rng(1)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 3)
    out = {}
    for tag, fn in [("dcp", dcp), ("clahe", clahe), ("bicubic", bicubic)]:
        src = img if tag != "bicubic" else cv2.resize(img, (w // 2, h // 2))
        times = []
        for _ in range(repeats):
            t = time.perf_counter(); fn(src); times.append(time.perf_counter() - t)
        out[tag] = sorted(times)[len(times) // 2]
    for tag, fn in [("imencode", lambda: cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])),
                    ("imdecode", lambda: cv2.imdecode(jpeg, cv2.IMREAD_COLOR))]:
        jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])[1]
        times = []
        for _ in range(repeats):
            t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
        out[tag] = sorted(times)[len(times) // 2]
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "quality":
        quality(sys.argv[2])
    else:
        bench(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
