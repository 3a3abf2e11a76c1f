#!/usr/bin/env python3
"""Independent reference for preprocessing: torchvision's ImageNet transform written with Pillow.

torchvision.transforms: Resize(256) (bilinear, antialiased: what PIL's resize does) ->
CenterCrop(224). Writes one lossless 224x224 RGB PNG per fixture photo into
tests/support/reference/, which the tests compare our sharp pipeline against.
Needs Debian's python3-pil (no torch, no network). Run from the repository root:
    python3 scripts/torchvision-reference.py
"""
import pathlib
import sys

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
PHOTOS = ROOT.parent / "shared" / "fixtures" / "images"
OUT = ROOT / "tests" / "support" / "reference"


def torchvision_resize_crop(image, resize=256, size=224):
    """torchvision.transforms.functional: resize the shorter side, truncate the longer, crop."""
    image = image.convert("RGB")
    width, height = image.size
    if width <= height:
        new_w, new_h = resize, int(resize * height / width)
    else:
        new_w, new_h = int(resize * width / height), resize
    image = image.resize((new_w, new_h), Image.BILINEAR)
    top = int(round((new_h - size) / 2.0))  # Python's round: half to even, as torchvision
    left = int(round((new_w - size) / 2.0))
    return image.crop((left, top, left + size, top + size))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix in {".jpg", ".png"})
    for photo in photos:
        with Image.open(photo) as image:
            torchvision_resize_crop(image).save(OUT / f"{photo.stem}.png", optimize=True)
    print(f"wrote {len(photos)} reference crops to {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
