"""The MLPerf ResNet50-v1.5 reference image preprocessing, in numpy (no OpenCV needed).

The reference (mlcommons/inference ``vision/classification_and_detection/python/dataset.py``,
``pre_process_vgg``) does: decode to RGB; resize so the shorter side is
``int(100 * 224 / 87.5) = 256`` and the longer side ``int(256 * long / short)``, with OpenCV's
``INTER_AREA``; centre-crop 224x224 with ``int((size - 224) / 2)`` offsets; subtract the means
``[123.68, 116.78, 103.94]`` (no scaling); transpose to CHW for NCHW models.

:func:`resize_area` reproduces ``cv2.resize(..., INTER_AREA)``: exact area averaging when both
axes shrink, and OpenCV's INTER_AREA up-sampling kernel otherwise, computed as two separable
weight matrices and rounded back to uint8 like OpenCV. OpenCV's own arithmetic is fixed-point in
places, so single pixels can differ by 1 grey level; top-1 accuracy is unaffected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suts.errors import DatasetError

MLPERF_MEAN_RGB = (123.68, 116.78, 103.94)
TORCHVISION_MEAN_RGB = (123.675, 116.28, 103.53)
TORCHVISION_STD_RGB = (58.395, 57.12, 57.375)
CROP_FRACTION = 0.875

UInt8Image = np.ndarray[Any, np.dtype[np.uint8]]
FloatImage = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class ImagePreprocessing:
    """Preprocessing parameters; the defaults are the MLPerf ResNet50-v1.5 reference."""

    crop_px: int = 224
    mean_rgb: tuple[float, float, float] = MLPERF_MEAN_RGB
    std_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: str = "NCHW"

    @property
    def resize_px(self) -> int:
        """Return the shorter side after resizing (256 for a 224 crop)."""
        return int(100.0 * self.crop_px / (CROP_FRACTION * 100.0))

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """Return the shape of one preprocessed sample (no batch dimension)."""
        c = self.crop_px
        return (3, c, c) if self.layout == "NCHW" else (c, c, 3)

    def __call__(self, rgb: UInt8Image) -> FloatImage:
        """Preprocess an ``[H, W, 3]`` uint8 RGB image into one float32 sample."""
        h, w = rgb.shape[:2]
        new_h, new_w = scaled_size(h, w, self.resize_px)
        img = center_crop(resize_area(rgb, new_h, new_w), self.crop_px, self.crop_px)
        out = img.astype(np.float32)
        out -= np.asarray(self.mean_rgb, dtype=np.float32)
        if self.std_rgb != (1.0, 1.0, 1.0):
            out /= np.asarray(self.std_rgb, dtype=np.float32)
        if self.layout == "NCHW":
            out = out.transpose(2, 0, 1)
        return np.ascontiguousarray(out)


def scaled_size(height: int, width: int, short_px: int) -> tuple[int, int]:
    """Return ``(h, w)`` with the shorter side ``short_px``, as the reference computes it."""
    if height > width:
        return int(short_px * height / width), short_px
    return short_px, int(short_px * width / height)


def center_crop(img: np.ndarray[Any, Any], out_h: int, out_w: int) -> np.ndarray[Any, Any]:
    """Crop the centre ``out_h x out_w`` with the reference's integer offsets."""
    h, w = img.shape[:2]
    if h < out_h or w < out_w:
        raise ValueError(f"cannot crop {out_h}x{out_w} from a {h}x{w} image")
    top, left = int((h - out_h) / 2), int((w - out_w) / 2)
    return img[top : top + out_h, left : left + out_w]


def area_weights(src: int, dst: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return the ``[dst, src]`` area-averaging matrix (``dst <= src``) of INTER_AREA."""
    if dst > src:
        raise ValueError(f"area averaging shrinks: {src} -> {dst}")
    scale = src / dst
    weights = np.zeros((dst, src), dtype=np.float64)
    for d in range(dst):
        f0 = d * scale
        f1 = f0 + scale
        i0, i1 = math.ceil(f0), math.floor(f1)
        if i0 - f0 > 1e-3:
            weights[d, i0 - 1] = i0 - f0
        weights[d, i0 : min(i1, src)] = 1.0
        if f1 - i1 > 1e-3 and i1 < src:
            weights[d, i1] = f1 - i1
        weights[d] /= min(scale, src - f0)
    return weights


def area_upsample_weights(src: int, dst: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return the ``[dst, src]`` matrix of INTER_AREA's two-tap kernel (used when growing)."""
    scale, inv = src / dst, dst / src
    weights = np.zeros((dst, src), dtype=np.float64)
    for d in range(dst):
        s = math.floor(d * scale)
        frac = (d + 1) - (s + 1) * inv
        frac = 0.0 if frac <= 0 else frac - math.floor(frac)
        weights[d, min(max(s, 0), src - 1)] += 1.0 - frac
        weights[d, min(s + 1, src - 1)] += frac  # OpenCV clamps the tap at the border
    return weights


def resize_area(img: UInt8Image, out_h: int, out_w: int) -> UInt8Image:
    """Resize an ``[H, W, C]`` uint8 image like ``cv2.resize(img, (out_w, out_h), INTER_AREA)``.

    OpenCV averages areas only when *both* axes shrink (or stay); otherwise both axes use its
    INTER_AREA two-tap kernel.
    """
    h, w = img.shape[:2]
    weigh = area_weights if (h >= out_h and w >= out_w) else area_upsample_weights
    wy, wx = weigh(h, out_h), weigh(w, out_w)
    out: np.ndarray[Any, Any] = np.einsum(
        "yh,hwc,xw->yxc", wy, img.astype(np.float64), wx, optimize=True
    )
    resized: UInt8Image = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return resized


def load_rgb(path: Path) -> UInt8Image:
    """Decode an image file to ``[H, W, 3]`` uint8 RGB (greyscale/alpha converted).

    Raises:
        DatasetError: the file is missing, not an image, or truncated (names the path).
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise DatasetError("image workloads need Pillow (pip install pillow)") from e
    if not path.is_file():
        raise DatasetError(f"image file {path} does not exist")
    try:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            rgb.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DatasetError(f"cannot decode image {path}: {e}") from e
    image: UInt8Image = np.asarray(rgb, dtype=np.uint8)
    return image
