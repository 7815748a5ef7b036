"""Scene layout of one synthetic tile: which material lies where, and how high it is.

Objects are drawn in metres (a street 4.5-6.5 m wide, a car 4-4.9 m long, ...) and
rasterised at the domain's pixel size, so the same kind of scene appears at another
object scale in a domain with another resolution. Tiles smaller than ``REFERENCE_EXTENT``
metres shrink every object by the same factor, so that even tiny test tiles hold all
six classes. Larger tiles are a neighbourhood: a street grid, and numbers of buildings,
trees, cars and clutter in proportion to the area.

The layout is computed on a canvas with a margin around the tile (shadows and blur
near the tile edge then come from real neighbours) and cropped by the caller. Every
object is rasterised inside its own bounding window, so the cost grows with the pixels.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .materials import BUILDING, CAR, CLUTTER, IMPERVIOUS, LOW_VEGETATION, M, MATERIAL_CLASS, TREE
from . import objects

REFERENCE_EXTENT = 14.0  # metres; smaller tiles scale their objects down
MIN_FRACTION = {CLUTTER: 0.003, BUILDING: 0.03, LOW_VEGETATION: 0.03, TREE: 0.02,
                CAR: 0.003, IMPERVIOUS: 0.03}
MAX_ATTEMPTS = 30


@dataclass
class Scene:
    material: np.ndarray   # (H, W) int16 index into MATERIALS
    height: np.ndarray     # (H, W) float32, metres above ground (for shading and shadows)
    object_id: np.ndarray  # (H, W) int32, 0 = none; objects get their own colour jitter
    detail: np.ndarray     # (H, W) float32, metres; rows of roof tiles follow it
    margin: int            # canvas pixels around the tile on each side
    complete: bool         # every class reached its minimum fraction inside the tile

    @property
    def labels(self):
        return MATERIAL_CLASS[self.material]

    def crop(self, array):
        m = self.margin
        return array[..., m:array.shape[-2] - m, m:array.shape[-1] - m]


class _Canvas:
    """Metre coordinates of pixel centres; the tile covers [0, extent) in x and y."""

    def __init__(self, size, pixel_size, margin, rng):
        self.size, self.pixel_size, self.margin, self.rng = size, pixel_size, margin, rng
        self.n = n = size + 2 * margin
        self.coords = (np.arange(n, dtype=np.float32) + 0.5 - margin) * pixel_size
        self.extent = size * pixel_size
        self.area = self.extent ** 2
        self.scale = min(1.0, self.extent / REFERENCE_EXTENT)
        self.material = np.full((n, n), M["grass"], dtype=np.int16)
        self.height = np.zeros((n, n), dtype=np.float32)
        self.object_id = np.zeros((n, n), dtype=np.int32)
        self.detail = np.zeros((n, n), dtype=np.float32)
        self.blocked = np.zeros((n, n), dtype=bool)  # no building may be placed here
        self.next_id = 1
        # one smooth noise field (unit std, ~0.6 m grain) for ragged crowns and patches
        field = ndimage.gaussian_filter(rng.standard_normal((n, n)).astype(np.float32),
                                        max(0.6 * self.scale / pixel_size, 0.5), mode="wrap")
        self.wobble = field / (field.std() + 1e-6)

    def m(self, metres):
        """A size in metres, shrunk for small tiles."""
        return metres * self.scale

    def new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def window(self, cx, cy, radius):
        """Canvas slices around (cx, cy) and the metre coordinates inside (None if outside)."""
        lo = np.searchsorted(self.coords, [cx - radius, cy - radius])
        hi = np.searchsorted(self.coords, [cx + radius, cy + radius])
        if hi[0] <= lo[0] or hi[1] <= lo[1]:
            return None
        sl = (slice(lo[1], hi[1]), slice(lo[0], hi[0]))
        x, y = np.meshgrid(self.coords[sl[1]], self.coords[sl[0]])
        return sl, x, y

    def tile_pixels(self, sl, mask):
        """How many pixels of a window mask lie inside the tile (not in the margin)."""
        m, n = self.margin, self.n
        rows = np.arange(sl[0].start, sl[0].stop)
        cols = np.arange(sl[1].start, sl[1].stop)
        inside = ((rows >= m) & (rows < n - m))[:, None] & ((cols >= m) & (cols < n - m))[None, :]
        return int(np.count_nonzero(mask & inside))

    def random_point(self, pad=0.2):
        lo, hi = -pad * self.extent, (1 + pad) * self.extent
        return self.rng.uniform(lo, hi), self.rng.uniform(lo, hi)


def _count(rng, per_area, area, low=1):
    """A random count with mean about area / per_area (at least ``low``)."""
    top = max(low + 1, int(round(2 * area / per_area)))
    return int(rng.integers(low, top + 1))


def _attempt(size, pixel_size, margin, rng):
    canvas = _Canvas(size, pixel_size, margin, rng)
    area = canvas.area / canvas.scale ** 2  # in scene units: small tiles behave like 14 m ones
    roads = objects.roads(canvas)
    paved = [p for p in (objects.paved_area(canvas, roads) for _ in range(_count(rng, 500, area, 0)))
             if p is not None]
    tile_pixels = canvas.size ** 2
    for k in range(_count(rng, 160, area, 2)):
        objects.building(canvas, roads, need=(0.06 if k == 0 else 0.0) * tile_pixels + 1)
    for _ in range(_count(rng, 400, area)):
        objects.clutter(canvas)
    for _ in range(_count(rng, 130, area)):
        centre = objects.tree(canvas)
        if centre is not None and rng.random() < 0.4:  # groups of trees
            objects.tree(canvas, near=centre)
    for _ in range(_count(rng, 18.0 * canvas.extent / canvas.scale / len(roads), area)):
        objects.car(canvas, roads, paved)
    return canvas


def make_scene(size, pixel_size, rng):
    """Lay out one tile; retry (same random stream) until every class is present."""
    margin = max(8, size // 8)
    complete = False
    for _ in range(MAX_ATTEMPTS):
        canvas = _attempt(size, pixel_size, margin, rng)
        inner = canvas.material[margin:-margin, margin:-margin]
        fractions = np.bincount(MATERIAL_CLASS[inner].ravel(), minlength=6) / float(size * size)
        if all(fractions[c] >= f for c, f in MIN_FRACTION.items()):
            complete = True
            break
    return Scene(material=canvas.material, height=canvas.height, object_id=canvas.object_id,
                 detail=canvas.detail, margin=margin, complete=complete)
