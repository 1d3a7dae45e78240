"""`images("folder", size = [H, W], channels = 1 | 3)`: one subfolder per class, as torchvision's ImageFolder.

Classes are the sorted subfolder names (label i is the i-th); every image file below a class folder (any
depth, sorted) is a sample. Images are decoded with Pillow when a batch is read (never all at once), converted
to grey ("L") or RGB, resized (bilinear) to the size when they differ, and handed on as uint8 [C, H, W]; the
default `scale = 255` then puts pixels in [0, 1]."""

from __future__ import annotations

import os

import numpy as np

from .errors import DataError, first_line

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _visible(names: list[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("."))


def class_files(folder: str, classes: list[str] | None = None) -> tuple[list[str], list[str], list[int]]:
    """(classes, image paths, labels). `classes`, when given, must be exactly the folder's (val/test folders
    follow the training folder's classes)."""
    found = [n for n in _visible(os.listdir(folder)) if os.path.isdir(os.path.join(folder, n))]
    if not found:
        raise DataError(f"{folder}: no class subfolders (expected one folder per class, such as {folder}/0/*.png)")
    if classes is not None and found != classes:
        raise DataError(f"{folder}: classes {found} differ from the training folder's {classes}")
    files, labels = [], []
    for label, name in enumerate(found):
        images = []
        for root, dirs, names in os.walk(os.path.join(folder, name)):
            dirs[:] = _visible(dirs)
            images += [os.path.join(root, n) for n in _visible(names) if n.lower().endswith(EXTENSIONS)]
        if not images:
            raise DataError(f"{os.path.join(folder, name)}: empty class folder (no {'/'.join(EXTENSIONS)} files)")
        files += images
        labels += [label] * len(images)
    return found, files, labels


class ImageFolderReader:
    """Decodes the images of a class-folder tree on demand; `size` None: the first image's size."""

    def __init__(self, folder: str, size: tuple[int, int] | None, channels: int, classes: list[str] | None = None):
        self.classes, self.files, labels = class_files(folder, classes)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.mode = "L" if channels == 1 else "RGB"
        self.channels = channels
        self.size = size if size is not None else self._first_size()

    def _first_size(self) -> tuple[int, int]:
        from PIL import Image

        try:
            with Image.open(self.files[0]) as image:
                return image.height, image.width
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise DataError(f"{self.files[0]}: unreadable image ({first_line(error)})") from None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.channels, *self.size)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.empty((len(rows), *self.shape), dtype=np.uint8)
        for i, row in enumerate(rows):
            pixels = self.decode(self.files[row])
            x[i] = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        return x, self.labels[rows]

    def decode(self, path: str) -> np.ndarray:
        """[H, W] (grey) or [H, W, 3] (RGB) uint8 pixels at the reader's size."""
        from PIL import Image

        try:
            with Image.open(path) as image:
                image = image.convert(self.mode)
                height, width = self.size
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
                return np.asarray(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            raise DataError(f"{path}: unreadable image ({first_line(error)})") from None
