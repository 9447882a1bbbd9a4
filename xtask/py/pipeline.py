#!/usr/bin/env python3
"""The OpenCV side of `cargo xtask bench-pipeline`, and a stopwatch for both sides.

opencv OP SRC DST: for every JPEG in SRC (sorted), cv2.imread, the operation, cv2.imwrite
  at quality 92 into DST, on one thread (cv2.setNumThreads(1)). OP is `dehaze` (the DCP
  of baselines.py, the one `cargo xtask quality` compares against) or `contrast` (CLAHE of
  baselines.py). Prints JSON: images, loop wall seconds and loop CPU seconds (interpreter
  start-up and imports excluded), and per-stage wall seconds (read, operation, write).
codec IMAGE REPEATS: median seconds of cv2.imencode (JPEG, quality 92) and cv2.imdecode
  of that very image, on one thread (for `cargo xtask bench-engine`'s codec rows).
time CMD...: runs CMD, prints JSON: wall seconds and the child's user and system CPU
  seconds (getrusage of the children), and the child's stdout.
"""
import json, os, resource, subprocess, sys, time


def opencv(op, src, dst):
    import cv2
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import baselines

    cv2.setNumThreads(1)
    fn = {"dehaze": baselines.dcp, "contrast": baselines.clahe}[op]
    os.makedirs(dst, exist_ok=True)
    names = sorted(f for f in os.listdir(src) if f.endswith(".jpg"))
    stages = {"read": 0.0, "operation": 0.0, "write": 0.0}
    wall, cpu = time.perf_counter(), time.process_time()
    for name in names:
        t0 = time.perf_counter()
        img = cv2.imread(os.path.join(src, name), cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        out = fn(img)
        t2 = time.perf_counter()
        if not cv2.imwrite(os.path.join(dst, name), out, [cv2.IMWRITE_JPEG_QUALITY, 92]):
            sys.exit(f"cannot write {name}")
        t3 = time.perf_counter()
        stages["read"] += t1 - t0
        stages["operation"] += t2 - t1
        stages["write"] += t3 - t2
    print(json.dumps({
        "images": len(names),
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "stages": stages,
    }))


def codec(path, repeats):
    import cv2

    cv2.setNumThreads(1)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])[1]
    out = {}
    for tag, fn in [("imencode", lambda: cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])),
                    ("imdecode", lambda: cv2.imdecode(jpeg, cv2.IMREAD_COLOR))]:
        fn()
        times = []
        for _ in range(repeats):
            t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
        out[tag] = sorted(times)[len(times) // 2]
    out["bytes"] = int(jpeg.size)
    print(json.dumps(out))


def stopwatch(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "status": done.returncode,
        "wall": wall,
        "user": after.ru_utime - before.ru_utime,
        "sys": after.ru_stime - before.ru_stime,
        "stdout": done.stdout.decode("utf-8", "replace"),
        "stderr": done.stderr.decode("utf-8", "replace")[-20000:],
    }))


if __name__ == "__main__":
    if sys.argv[1] == "opencv":
        opencv(*sys.argv[2:5])
    elif sys.argv[1] == "codec":
        codec(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "time":
        stopwatch(sys.argv[2:])
    else:
        sys.exit(__doc__)
