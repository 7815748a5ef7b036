"""Scene layout of one synthetic tile: which material lies where, and how high it is.

Objects are drawn in metres (a street 4.5-6.5 m wide, a car 4-4.9 m long, ...) and
rasterised at the domain's pixel size, so the same kind of scene appears at another
object scale in a domain with another resolution. Tiles smaller than ``REFERENCE_EXTENT``
metres shrink every object by the same factor, so that even tiny test tiles hold all
six classes.

The layout is computed on a canvas with a margin around the tile (shadows and blur
near the tile edge then come from real neighbours) and cropped by the caller.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# Class indices (ISPRS order, as in models.classes.default_classes()).
CLUTTER, BUILDING, LOW_VEGETATION, TREE, CAR, IMPERVIOUS = range(6)

# Materials: several per class, each rendered with its own spectrum and texture.
MATERIALS = (
    ("soil", CLUTTER), ("clutter_object", CLUTTER), ("water", CLUTTER),
    ("roof_light", BUILDING), ("roof_dark", BUILDING), ("roof_tile", BUILDING),
    ("roof_flat", BUILDING), ("parapet", BUILDING), ("roof_fixture", BUILDING),
    ("grass", LOW_VEGETATION), ("tree", TREE), ("car_body", CAR), ("car_window", CAR),
    ("asphalt", IMPERVIOUS), ("paving", IMPERVIOUS), ("marking", IMPERVIOUS),
)
M = {name: i for i, (name, _) in enumerate(MATERIALS)}
MATERIAL_CLASS = np.array([cls for _, cls in MATERIALS], dtype=np.uint8)

REFERENCE_EXTENT = 14.0  # metres; smaller tiles scale their objects down
MIN_FRACTION = {CLUTTER: 0.003, BUILDING: 0.03, LOW_VEGETATION: 0.03, TREE: 0.02,
                CAR: 0.003, IMPERVIOUS: 0.03}
MAX_ATTEMPTS = 30


@dataclass
class Scene:
    material: np.ndarray   # (H, W) int16 index into MATERIALS
    height: np.ndarray     # (H, W) float32, metres above ground (for shading and shadows)
    object_id: np.ndarray  # (H, W) int32, 0 = none; objects get their own colour jitter
    detail: np.ndarray     # (H, W) float32, metres; roof-tile rows and car windows use it
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
        n = size + 2 * margin
        idx = (np.arange(n, dtype=np.float32) + 0.5 - margin) * pixel_size
        self.x, self.y = np.meshgrid(idx, idx)  # y grows downwards (image rows)
        self.extent = size * pixel_size
        self.scale = min(1.0, self.extent / REFERENCE_EXTENT)
        self.material = np.full((n, n), M["grass"], dtype=np.int16)
        self.height = np.zeros((n, n), dtype=np.float32)
        self.object_id = np.zeros((n, n), dtype=np.int32)
        self.detail = np.zeros((n, n), dtype=np.float32)
        self.inner = np.zeros((n, n), dtype=bool)
        self.inner[margin:n - margin, margin:n - margin] = True
        self.next_id = 1
        # one smooth noise field (unit std, ~0.6 m grain) for ragged crowns and patches
        self.wobble = _smooth_noise(rng, n, 0.6 * self.scale / pixel_size)

    def m(self, metres):
        """A size in metres, shrunk for small tiles."""
        return metres * self.scale

    def new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def frame(self, cx, cy, angle):
        """(u, v): coordinates along / across a direction through (cx, cy)."""
        dx, dy = self.x - cx, self.y - cy
        c, s = np.cos(angle), np.sin(angle)
        return dx * c + dy * s, -dx * s + dy * c

    def random_point(self, pad=0.2):
        lo, hi = -pad * self.extent, (1 + pad) * self.extent
        return self.rng.uniform(lo, hi), self.rng.uniform(lo, hi)

    def tile_count(self, mask):
        return int(np.count_nonzero(mask & self.inner))


def _smooth_noise(rng, n, sigma_px):
    field = ndimage.gaussian_filter(rng.standard_normal((n, n)).astype(np.float32),
                                    max(sigma_px, 0.5), mode="wrap")
    return field / (field.std() + 1e-6)


def _rect(canvas, cx, cy, length, width, angle):
    u, v = canvas.frame(cx, cy, angle)
    return (np.abs(u) <= length / 2) & (np.abs(v) <= width / 2), u, v


def _roads(canvas):
    """One street (sometimes two crossing) with pavements, dashed centre line."""
    rng = canvas.rng
    roads = []
    count = 2 if rng.random() < 0.25 else 1
    base = (rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.06)) if rng.random() < 0.75 \
        else rng.uniform(0, np.pi)
    asphalt = np.zeros(canvas.x.shape, bool)
    paving = np.zeros_like(asphalt)
    marking = np.zeros_like(asphalt)
    for k in range(count):
        angle = base + (np.pi / 2 + rng.normal(0, 0.05)) * k
        width = canvas.m(rng.uniform(4.5, 6.5) if k == 0 else rng.uniform(3.5, 5.0))
        walk = canvas.m(rng.uniform(1.0, 2.0))
        # the centre line passes the tile centre at a random distance along the normal
        shift = (rng.uniform(-0.1, 1.1) - 0.5) * canvas.extent
        cx = canvas.extent / 2 - np.sin(angle) * shift
        cy = canvas.extent / 2 + np.cos(angle) * shift
        u, v = canvas.frame(cx, cy, angle)
        asphalt |= np.abs(v) < width / 2
        paving |= np.abs(v) < width / 2 + walk
        if width > canvas.m(5.0):
            dash = canvas.m(3.0)
            marking |= (np.abs(v) < max(0.06, canvas.m(0.07))) & (np.mod(u, 2 * dash) < dash)
        roads.append((cx, cy, angle, width, walk))
    canvas.material[paving] = M["paving"]
    canvas.material[asphalt] = M["asphalt"]
    canvas.material[marking & asphalt] = M["marking"]
    return roads, paving


def _road_zone(canvas, roads, extra):
    zone = np.zeros(canvas.x.shape, bool)
    for cx, cy, angle, width, walk in roads:
        _, v = canvas.frame(cx, cy, angle)
        zone |= np.abs(v) < width / 2 + walk + extra
    return zone


def _paved_area(canvas, roads):
    """A courtyard, driveway or parking area next to a street."""
    rng = canvas.rng
    cx, cy, angle, width, walk = roads[rng.integers(len(roads))]
    along = rng.uniform(0.1, 0.9) * canvas.extent - canvas.extent / 2
    side = rng.choice([-1.0, 1.0])
    depth, length = canvas.m(rng.uniform(3.0, 6.0)), canvas.m(rng.uniform(4.0, 8.0))
    across = side * (width / 2 + walk + depth / 2)
    c, s = np.cos(angle), np.sin(angle)
    px, py = cx + along * c - across * s, cy + along * s + across * c
    mask, _, _ = _rect(canvas, px, py, length, depth, angle)
    mask &= canvas.material == M["grass"]
    canvas.material[mask] = M["paving"]
    return (px, py, angle, length, depth)


def _building(canvas, blocked, roads, first):
    """A rectangular or L-shaped building with a gable, hip or flat roof."""
    rng = canvas.rng
    for _ in range(40):
        length, width = canvas.m(rng.uniform(8, 16)), canvas.m(rng.uniform(6, 11))
        if rng.random() < 0.7:
            angle = roads[0][2] + rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.03)
        else:
            angle = rng.uniform(0, np.pi)
        cx, cy = canvas.random_point(0.25)
        parts = [(cx, cy, length, width)]
        if rng.random() < 0.35:  # L shape: a wing at one end
            wl, ww = length * rng.uniform(0.35, 0.6), width * rng.uniform(0.8, 1.4)
            su, sv = rng.choice([-1, 1]) * (length - wl) / 2, rng.choice([-1, 1]) * ww / 2
            c, s = np.cos(angle), np.sin(angle)
            parts.append((cx + su * c - sv * s, cy + su * s + sv * c, wl, ww))
        masks = [_rect(canvas, px, py, pl, pw, angle) for px, py, pl, pw in parts]
        footprint = np.logical_or.reduce([mk for mk, _, _ in masks])
        need = (0.06 if first else 0.015) * canvas.size ** 2
        if footprint[blocked].any() or canvas.tile_count(footprint) < need:
            continue
        roof = rng.choice(["gable", "hip", "flat"], p=[0.45, 0.2, 0.35])
        eave = canvas.m(rng.uniform(4.0, 8.0))
        pitch = np.tan(np.radians(rng.uniform(28, 42)))
        oid = canvas.new_id()
        height = np.zeros(canvas.x.shape, np.float32)
        detail = np.zeros_like(height)
        for (mk, u, v), (_, _, pl, pw) in zip(masks, parts):
            to_edge = np.minimum(pl / 2 - np.abs(u), pw / 2 - np.abs(v))
            if roof == "gable":
                rise, rows = pw / 2 - np.abs(v), pw / 2 - np.abs(v)
            elif roof == "hip":
                rise, rows = to_edge, to_edge
            else:
                rise, rows = np.zeros_like(u), to_edge
            h = np.where(mk, eave + (rise * pitch if roof != "flat" else 0), 0)
            detail = np.where(mk & (h >= height), rows, detail)
            height = np.maximum(height, h)
        if roof == "flat":
            material = M["roof_flat"]
        else:
            material = M[rng.choice(["roof_light", "roof_dark", "roof_tile"], p=[0.3, 0.3, 0.4])]
        canvas.material[footprint] = material
        canvas.object_id[footprint] = oid
        canvas.height = np.maximum(canvas.height, height)
        canvas.detail[footprint] = detail[footprint]
        if roof == "flat":
            parapet = footprint & (detail < canvas.m(0.35))
            canvas.material[parapet] = M["parapet"]
            canvas.height[parapet] += canvas.m(0.4)
            for _ in range(rng.integers(1, 5)):  # skylights, air conditioning units
                fx, fy = cx + rng.uniform(-0.3, 0.3) * length, cy + rng.uniform(-0.3, 0.3) * width
                fixture, _, _ = _rect(canvas, fx, fy, canvas.m(rng.uniform(0.6, 1.8)),
                                      canvas.m(rng.uniform(0.6, 1.4)), angle)
                fixture &= footprint & ~parapet
                canvas.material[fixture] = M["roof_fixture"]
                canvas.height[fixture] += canvas.m(0.6)
        big, _, _ = zip(*[_rect(canvas, px, py, pl + canvas.m(3), pw + canvas.m(3), angle)
                          for px, py, pl, pw in parts])
        return np.logical_or.reduce(big)
    return None


def _blob(canvas, cx, cy, radius, raggedness):
    d = np.hypot(canvas.x - cx, canvas.y - cy) / radius
    return d, d < 1 + raggedness * canvas.wobble


def _clutter(canvas, roads):
    """Bare soil, a pond or small objects (bins, containers, stacked material)."""
    rng = canvas.rng
    kind = rng.choice(["soil", "object", "water"], p=[0.4, 0.45, 0.15])
    if kind == "object":
        for _ in range(30):
            cx, cy = canvas.random_point(0.05)
            mask, _, _ = _rect(canvas, cx, cy, canvas.m(rng.uniform(0.8, 3.0)),
                               canvas.m(rng.uniform(0.6, 2.0)), rng.uniform(0, np.pi))
            under = canvas.material[mask]
            if mask.any() and np.isin(under, [M["grass"], M["paving"], M["soil"]]).all():
                canvas.material[mask] = M["clutter_object"]
                canvas.object_id[mask] = canvas.new_id()
                canvas.height[mask] = canvas.m(rng.uniform(0.5, 1.5))
                return
        return
    cx, cy = canvas.random_point(0.05)
    _, mask = _blob(canvas, cx, cy, canvas.m(rng.uniform(1.5, 4.0)), 0.25)
    mask &= canvas.material == M["grass"]
    canvas.material[mask] = M[kind]
    canvas.object_id[mask] = canvas.new_id()


def _tree(canvas):
    """A crown: a ragged disc whose height is a bumpy dome (shading gives it texture)."""
    rng = canvas.rng
    for _ in range(30):
        cx, cy = canvas.random_point(0.15)
        i = int(np.clip((cy / canvas.pixel_size) + canvas.margin, 0, canvas.x.shape[0] - 1))
        j = int(np.clip((cx / canvas.pixel_size) + canvas.margin, 0, canvas.x.shape[1] - 1))
        if canvas.material[i, j] not in (M["grass"], M["soil"], M["tree"]):
            continue
        radius = canvas.m(rng.uniform(1.5, 4.0))
        top = canvas.m(rng.uniform(4.0, 11.0))
        d, crown = _blob(canvas, cx, cy, radius, 0.2)
        crown &= ~np.isin(canvas.material, [M["roof_light"], M["roof_dark"], M["roof_tile"],
                                            M["roof_flat"], M["parapet"], M["roof_fixture"]])
        dome = top - radius + radius * np.sqrt(np.clip(1 - np.minimum(d, 1) ** 2, 0, 1))
        canvas.material[crown] = M["tree"]
        canvas.object_id[crown] = canvas.new_id()
        canvas.height[crown] = np.maximum(canvas.height[crown], dome[crown])
        return cx, cy, radius
    return None


def _car(canvas, roads, paved):
    """A car parked at the kerb, driving in a lane, or parked on a paved area."""
    rng = canvas.rng
    length, width = canvas.m(rng.uniform(4.0, 4.9)), canvas.m(rng.uniform(1.7, 1.95))
    for _ in range(40):
        if paved and rng.random() < 0.3:
            px, py, axis, plen, pdepth = paved[rng.integers(len(paved))]
            along = rng.uniform(-0.4, 0.4) * plen
            across = rng.uniform(-0.25, 0.25) * pdepth
            heading = axis + np.pi / 2 + rng.normal(0, 0.05)  # nose towards the street
        else:
            px, py, axis, rw, _ = roads[rng.integers(len(roads))]
            along = rng.uniform(-0.7, 0.7) * canvas.extent
            across = rng.choice([-1, 1]) * (rw / 2 - width * 0.65 if rng.random() < 0.6 else rw / 4)
            heading = axis + rng.choice([0.0, np.pi]) + rng.normal(0, 0.02)
        c, s = np.cos(axis), np.sin(axis)
        cx, cy = px + along * c - across * s, py + along * s + across * c
        angle = heading
        u, v = canvas.frame(cx, cy, angle)
        body = (np.abs(u / (length / 2)) ** 4 + np.abs(v / (width / 2)) ** 4) <= 1
        if canvas.tile_count(body) < 0.4 * np.count_nonzero(body) or not body.any():
            continue
        under = canvas.material[body]
        if not np.isin(under, [M["asphalt"], M["paving"], M["marking"]]).all():
            continue
        rel = u / length  # -0.5 rear .. 0.5 front
        window = body & (((rel > 0.08) & (rel < 0.3)) | ((rel > -0.38) & (rel < -0.26))) \
            & (np.abs(v) < width * 0.42)
        canvas.material[body] = M["car_body"]
        canvas.material[window] = M["car_window"]
        canvas.object_id[body] = canvas.new_id()
        roof = (rel > -0.26) & (rel < 0.08)
        canvas.height[body] = np.where(roof[body], canvas.m(1.5), canvas.m(1.0))
        canvas.detail[body] = rel[body]
        return True
    return False


def _attempt(size, pixel_size, margin, rng):
    canvas = _Canvas(size, pixel_size, margin, rng)
    roads, _ = _roads(canvas)
    paved = [_paved_area(canvas, roads) for _ in range(rng.integers(0, 2))]
    blocked = _road_zone(canvas, roads, canvas.m(1.0)) | (canvas.material == M["paving"])
    for k in range(rng.integers(2, 5)):
        buffer = _building(canvas, blocked, roads, first=(k == 0))
        if buffer is not None:
            blocked |= buffer
    for _ in range(rng.integers(1, 4)):
        _clutter(canvas, roads)
    area = canvas.extent ** 2  # crowns and cars in proportion to the tile
    for _ in range(rng.integers(1, max(2, round(area / 80.0)) + 1)):
        centre = _tree(canvas)
        if centre is not None and rng.random() < 0.4:  # a neighbour crown: tree groups
            _tree(canvas)
    for _ in range(rng.integers(1, max(2, round(canvas.extent / 7.0)) + 1)):
        _car(canvas, roads, paved)
    return canvas


def make_scene(size, pixel_size, rng):
    """Lay out one tile; retry (same random stream) until every class is present."""
    margin = max(8, size // 8)
    canvas = None
    for _ in range(MAX_ATTEMPTS):
        canvas = _attempt(size, pixel_size, margin, rng)
        counts = np.bincount(MATERIAL_CLASS[canvas.material[canvas.inner]], minlength=6)
        fractions = counts / float(size * size)
        if all(fractions[c] >= f for c, f in MIN_FRACTION.items()):
            break
    else:
        fractions = None
    return Scene(material=canvas.material, height=canvas.height, object_id=canvas.object_id,
                 detail=canvas.detail, margin=margin, complete=fractions is not None)
