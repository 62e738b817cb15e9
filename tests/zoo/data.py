"""Natural-image inputs of the zoo: crops of scikit-learn's two sample photographs (a temple in
China, a flower), 96x96 RGB uint8, in tests/zoo/images.npy; the first CALIB are calibration
images, the rest test images. ``model_input`` turns them into a model's input (NCHW float32,
ImageNet normalization, 96, 48 or 32 pixels by block averaging). Only numpy is needed here;
``write_images`` (scikit-learn, Pillow) made the file once.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGES = Path(__file__).resolve().parent / "images.npy"
SIZE = 96
CALIB = 40
TEST = 16
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def split(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(calibration images, test images)."""
    return images[:CALIB], images[CALIB:]


def load() -> tuple[np.ndarray, np.ndarray]:
    """(calibration images, test images) as stored: (N, 96, 96, 3) uint8."""
    return split(np.load(IMAGES))


def model_input(images: np.ndarray, size: int) -> np.ndarray:
    """(N, 3, size, size) float32, normalized as torchvision's ImageNet models expect."""
    if SIZE % size:
        raise ValueError(f"size {size} does not divide {SIZE}")
    k = SIZE // size
    x = images.astype(np.float32) / 255.0
    x = x.reshape(x.shape[0], size, k, size, k, 3).mean(axis=(2, 4))
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)


def write_images(seed: int = 0) -> None:
    """Random square crops (a sixth of the shorter side to all of it), random flips, resized to 96x96."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    crops = []
    for i in range(CALIB + TEST):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 6, min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        img = Image.fromarray(photo[y:y + side, x:x + side]).resize((SIZE, SIZE), Image.BILINEAR)
        a = np.asarray(img)
        crops.append(a[:, ::-1] if rng.random() < 0.5 else a)
    np.save(IMAGES, np.stack(crops).astype(np.uint8))
