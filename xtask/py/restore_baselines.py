#!/usr/bin/env python3
"""OpenCV baselines of the restoration operations, for `cargo xtask quality-restore` and
`cargo xtask bench-restore`. Single-threaded (cv2.setNumThreads(1)).

quality DIR: for every `NAME.OP.in.png` in DIR writes one `NAME.OP.cand-TAG.png` per
candidate setting; the xtask scores them against the clean photo and keeps the candidate
with the best mean (one setting for the whole set, as a user would pick it):
  denoise15/denoise25 -> cv2.fastNlMeansDenoisingColored, h = hColor in H_BY_SIGMA
                         (template 7, search 21; the times go to DIR/nlm_times.json)
  definition          -> unsharp mask img + a (img - GaussianBlur(img, s)), a in
                         {0.5, 1, 1.5}, s in {1, 2} ... and s 1.5 (nine in all)
  inpaint             -> cv2.inpaint TELEA and NS, radius 5 (mask NAME.inpaint.mask.png)
  doc                 -> division by the morphological closing, kernel 15..31
  demoire             -> GaussianBlur sigma 0.8, 1.2, 1.6
bench W H REPEATS: JSON CPU timings (seconds, median; process_time, one thread) of NLM h 7 (the best h at σ 15) at W x H.
"""
import json, os, sys, time
import numpy as np
import cv2

cv2.setNumThreads(1)

H_BY_SIGMA = {15: [6, 7, 8, 10], 25: [10, 12, 14, 17]}


def unsharp(img, a, s):
    f = img.astype(np.float32)
    out = f + a * (f - cv2.GaussianBlur(f, (0, 0), s))
    return out.clip(0, 255).round().astype(np.uint8)


def divide_by_closing(img, k):
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg = cv2.morphologyEx(img, cv2.MORPH_CLOSE, kernel).astype(np.float32)
    out = img.astype(np.float32) / np.maximum(bg, 1) * 255
    return out.clip(0, 255).round().astype(np.uint8)


def candidates(op, img, d, name):
    if op.startswith("denoise"):
        sigma = int(op[len("denoise"):])
        times = {}
        for h in H_BY_SIGMA[sigma]:
            t = time.perf_counter()
            out = cv2.fastNlMeansDenoisingColored(img, None, h, h, 7, 21)
            times[f"h{h}"] = time.perf_counter() - t
            yield f"nlm-h{h}", out
        path = os.path.join(d, "nlm_times.json")
        all_times = json.load(open(path)) if os.path.exists(path) else {}
        all_times[f"{name}.{op}"] = times
        json.dump(all_times, open(path, "w"))
    elif op == "definition":
        for a in (0.5, 1.0, 1.5):
            for s in (1.0, 1.5, 2.0):
                yield f"unsharp-a{a}-s{s}", unsharp(img, a, s)
    elif op == "inpaint":
        mask = cv2.imread(os.path.join(d, f"{name}.inpaint.mask.png"), cv2.IMREAD_GRAYSCALE)
        yield "telea", cv2.inpaint(img, mask, 5, cv2.INPAINT_TELEA)
        yield "ns", cv2.inpaint(img, mask, 5, cv2.INPAINT_NS)
    elif op == "doc":
        for k in (15, 19, 23, 27, 31):
            yield f"closing-k{k}", divide_by_closing(img, k)
    elif op == "demoire":
        for s in (0.8, 1.2, 1.6):
            yield f"blur-s{s}", cv2.GaussianBlur(img, (0, 0), s)


def quality(d):
    for f in sorted(os.listdir(d)):
        if not f.endswith(".in.png"):
            continue
        name, op = f[:-len(".in.png")].rsplit(".", 1)
        img = cv2.imread(os.path.join(d, f), cv2.IMREAD_COLOR)
        for tag, out in candidates(op, img, d, name):
            cv2.imwrite(os.path.join(d, f"{name}.{op}.cand-{tag}.png"), out)


def bench(w, h, repeats):
    rng = np.random.default_rng(1)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 3)
    img = (img + rng.normal(0, 15, img.shape)).clip(0, 255).astype(np.uint8)
    times = []
    for _ in range(repeats):
        t = time.process_time()
        cv2.fastNlMeansDenoisingColored(img, None, 7, 7, 7, 21)
        times.append(time.process_time() - t)
    print(json.dumps({"nlm": sorted(times)[len(times) // 2]}))


if __name__ == "__main__":
    if sys.argv[1] == "quality":
        quality(sys.argv[2])
    else:
        bench(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
