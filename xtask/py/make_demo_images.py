#!/usr/bin/env python3
"""Builds examples/images/ from freely licensed photos shipped in PyPI packages.

Sources (see examples/images/LICENSES.md): scikit-image's bundled data and matplotlib's
sample_data. Needs: pip install scikit-image matplotlib pillow numpy. Deterministic.
The two demo inputs hazy.jpg and dark.jpg are *synthetic* degradations of shipped photos
(no naturally hazy, freely licensed photo was found in the package registries).
"""
import os, sys
import numpy as np
from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "examples/images"
os.makedirs(out, exist_ok=True)
import skimage, matplotlib
sk = os.path.join(os.path.dirname(skimage.__file__), "data")
mpl = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")

sources = {
    "astronaut.jpg": os.path.join(sk, "astronaut.png"),
    "chelsea.jpg": os.path.join(sk, "chelsea.png"),
    "coffee.jpg": os.path.join(sk, "coffee.png"),
    "rocket.jpg": os.path.join(sk, "rocket.jpg"),
    "camera.png": os.path.join(sk, "camera.png"),
    "grace_hopper.jpg": os.path.join(mpl, "grace_hopper.jpg"),
}
for name, src in sources.items():
    im = Image.open(src)
    im = im.convert("L") if name == "camera.png" else im.convert("RGB")
    if name.endswith(".png"):
        im.save(os.path.join(out, name), optimize=True)
    else:
        im.save(os.path.join(out, name), quality=95, subsampling=0)

# Synthetic haze: I = J t + A (1 - t), transmission falling towards the top of the frame
# (sky and distance), as in the quality harness.
rocket = np.asarray(Image.open(os.path.join(sk, "rocket.jpg")).convert("RGB"), dtype=np.float64) / 255
h, w, _ = rocket.shape
depth = np.linspace(1.0, 0.25, h)[:, None] * np.ones((1, w))
t = np.exp(-1.6 * depth)[..., None]
air = np.array([0.86, 0.88, 0.9])
hazy = rocket * t + air * (1 - t)
Image.fromarray((hazy * 255 + 0.5).clip(0, 255).astype(np.uint8)).save(os.path.join(out, "hazy.jpg"), quality=92)

# Synthetic dull, dark photo: halved contrast and gamma 2.2 darkening.
coffee = np.asarray(Image.open(os.path.join(sk, "coffee.png")).convert("RGB"), dtype=np.float64) / 255
dull = (0.5 * (coffee - 0.5) + 0.5) ** 2.2
Image.fromarray((dull * 255 + 0.5).clip(0, 255).astype(np.uint8)).save(os.path.join(out, "dark.jpg"), quality=92)
print("wrote", sorted(os.listdir(out)))
