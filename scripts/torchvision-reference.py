#!/usr/bin/python3
"""Independent reference for preprocessing: torchvision's transforms written with Pillow + numpy.

torchvision.transforms with PIL images: Resize(256) (Pillow's resize; BILINEAR is antialiased)
-> CenterCrop(224) -> ToTensor() (/255, HWC -> CHW) -> Normalize(mean, std). No torch needed:
Debian's python3-pil and python3-numpy (Pillow 9.4, numpy 1.24). Run from the repository root.

    /usr/bin/python3 scripts/torchvision-reference.py crops
        Rewrites tests/support/reference/<photo>.png, the 224x224 crops of the fixture photos
        (lossless, without the source's ICC profile: Pillow never applies one, and a reader that
        honours it would change the pixels).
    /usr/bin/python3 scripts/torchvision-reference.py tensors < jobs.json
        jobs.json: [{"image": path, "config": {...config.json input...}, "out": prefix}, ...];
        writes prefix.rgb (the uint8 HWC crop) and prefix.tensor (the model input: float32,
        float16 or uint8 per config, little-endian, in the config's layout and channel order).
    /usr/bin/python3 scripts/torchvision-reference.py bench IMAGE SECONDS CONCURRENCY
        Decode + the whole transform of IMAGE in a loop; CONCURRENCY worker processes (a
        torch DataLoader's num_workers). Prints {"imagesPerSec": ..., "images": ...,
        "cpuSeconds": ...} as JSON (cpuSeconds: the workers' CPU time in the measured window).
"""
import io
import json
import multiprocessing
import pathlib
import sys
import time

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
PHOTOS = ROOT.parent / "shared" / "fixtures" / "images"
OUT = ROOT / "tests" / "support" / "reference"
FILTERS = {
    "bilinear": Image.BILINEAR,
    "bicubic": Image.BICUBIC,
    "nearest": Image.NEAREST,
    "lanczos": Image.LANCZOS,
}
DEFAULTS = {
    "size": 224,
    "crop": "center",
    "interpolation": "bilinear",
    "scale": 1 / 255,
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "colorOrder": "RGB",
    "layout": "NCHW",
    "dtype": "float32",
    "padColor": [114, 114, 114],
}


def settings(config):
    """The config's input object with defaults, as the TypeScript parser fills them."""
    c = {**DEFAULTS, **config}
    c["height"], c["width"] = (c["size"], c["size"]) if isinstance(c["size"], int) else c["size"]
    c.setdefault("resize", round(min(c["height"], c["width"]) / 0.875))
    return c


def resize_crop(image, c):
    """torchvision Resize + CenterCrop (crop "center"), Resize((h, w)) ("none"), or letterbox."""
    image = image.convert("RGB")
    width, height = image.size
    resample = FILTERS[c["interpolation"]]
    if c["crop"] == "none":
        return image.resize((c["width"], c["height"]), resample)
    if c["crop"] == "letterbox":
        r = min(c["width"] / width, c["height"] / height)
        w = min(c["width"], max(1, round(width * r)))
        h = min(c["height"], max(1, round(height * r)))
        canvas = Image.new("RGB", (c["width"], c["height"]), tuple(c["padColor"]))
        at = ((c["width"] - w) // 2, (c["height"] - h) // 2)
        canvas.paste(image.resize((w, h), resample), at)
        return canvas
    s = c["resize"]  # torchvision.transforms.functional.resize: the long side is truncated
    new_w, new_h = (s, int(s * height / width)) if width <= height else (int(s * width / height), s)
    image = image.resize((new_w, new_h), resample)
    top = int(round((new_h - c["height"]) / 2.0))  # Python's round: half to even, as torchvision
    left = int(round((new_w - c["width"]) / 2.0))
    return image.crop((left, top, left + c["width"], top + c["height"]))


def to_tensor(rgb, c):
    """ToTensor + Normalize in numpy, then the layout, channel order and dtype of the config."""
    pixels = np.asarray(rgb)
    if c["colorOrder"] == "BGR":
        pixels = pixels[:, :, ::-1]
    if c["dtype"] == "uint8":
        tensor = pixels
    else:
        mean = np.array(c["mean"], np.float64)
        std = np.array(c["std"], np.float64)
        if c["colorOrder"] == "BGR":  # mean and std are listed in R, G, B order
            mean, std = mean[::-1], std[::-1]
        little_endian = np.dtype(c["dtype"]).newbyteorder("<")
        tensor = ((pixels * c["scale"] - mean) / std).astype(little_endian)
    return tensor.transpose(2, 0, 1) if c["layout"] == "NCHW" else tensor


def write_crops():
    OUT.mkdir(parents=True, exist_ok=True)
    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix in {".jpg", ".png"})
    for photo in photos:
        with Image.open(photo) as image:
            crop = resize_crop(image, settings({}))
        crop.info.pop("icc_profile", None)
        crop.save(OUT / f"{photo.stem}.png", optimize=True, icc_profile=None)
    print(f"wrote {len(photos)} reference crops to {OUT.relative_to(ROOT)}", file=sys.stderr)


def write_tensors(jobs):
    for job in jobs:
        c = settings(job.get("config", {}))
        with Image.open(job["image"]) as image:
            rgb = resize_crop(image, c)
        pathlib.Path(job["out"] + ".rgb").write_bytes(np.asarray(rgb).tobytes())
        tensor = np.ascontiguousarray(to_tensor(rgb, c))
        pathlib.Path(job["out"] + ".tensor").write_bytes(tensor.tobytes())


def transform_bytes(data):
    c = settings({})
    return to_tensor(resize_crop(Image.open(io.BytesIO(data)), c), c)


def bench_loop(args):
    path, start, seconds = args
    data = pathlib.Path(path).read_bytes()
    for _ in range(5):  # warm-up
        transform_bytes(data)
    time.sleep(max(0.0, start - time.time()))  # every worker measures the same window
    count, end, cpu = 0, start + seconds, time.process_time()
    while time.time() < end:
        transform_bytes(data)
        count += 1
    return count, time.process_time() - cpu


def bench(path, seconds, concurrency):
    start = time.time() + 1.0  # after the workers' start-up and warm-up
    jobs = [(path, start, seconds)] * concurrency
    if concurrency == 1:
        results = [bench_loop(jobs[0])]
    else:
        with multiprocessing.Pool(concurrency) as pool:
            results = pool.map(bench_loop, jobs, chunksize=1)
    images = sum(count for count, _ in results)
    cpu_seconds = sum(cpu for _, cpu in results)
    print(json.dumps({"imagesPerSec": images / seconds, "images": images, "cpuSeconds": cpu_seconds}))


def main(argv):
    command = argv[1] if len(argv) > 1 else "crops"
    if command == "crops":
        write_crops()
    elif command == "tensors":
        write_tensors(json.load(sys.stdin))
    elif command == "bench":
        bench(argv[2], float(argv[3]), int(argv[4]))
    else:
        sys.exit(f"unknown command {command!r}; see the docstring")


if __name__ == "__main__":
    main(sys.argv)
