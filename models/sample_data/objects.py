"""The objects of a synthetic scene, painted on the layout canvas in metres: roads and
paved areas, buildings with their roofs, vegetation blobs, clutter, trees and cars
(``layout.py`` decides how many of each and where the canvas lies)."""

import numpy as np

from .materials import M, ROAD_SURFACES, ROOFS

def _frame(x, y, cx, cy, angle):
    """(u, v): coordinates along / across a direction through (cx, cy)."""
    dx, dy = x - cx, y - cy
    c, s = np.cos(angle), np.sin(angle)
    return dx * c + dy * s, -dx * s + dy * c


def roads(canvas):
    """A street grid; the first street always crosses the tile. Pavements, centre lines."""
    rng = canvas.rng
    base = (rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.06)) if rng.random() < 0.75 \
        else rng.uniform(0, np.pi)
    x, y = np.meshgrid(canvas.coords, canvas.coords)
    half = canvas.extent / 2
    reach = canvas.extent * 0.75 + canvas.margin * canvas.pixel_size
    asphalt = np.zeros(x.shape, bool)
    paving = np.zeros_like(asphalt)
    marking = np.zeros_like(asphalt)
    roads = []
    for k, spacing in enumerate((canvas.m(rng.uniform(40, 65)), canvas.m(rng.uniform(45, 80)))):
        angle = base + k * (np.pi / 2 + rng.normal(0, 0.05))
        # offsets of the streets from the tile centre, along the normal
        first = (rng.uniform(-0.1, 1.1) - 0.5) * canvas.extent if k == 0 \
            else rng.uniform(0, spacing)
        offsets = first + spacing * np.arange(-int(reach // spacing) - 1, int(reach // spacing) + 2)
        for shift in offsets[np.abs(offsets) < reach]:
            width = canvas.m(rng.uniform(4.5, 6.5) if k == 0 else rng.uniform(3.5, 5.5))
            walk = canvas.m(rng.uniform(1.0, 2.0))
            cx, cy = half - np.sin(angle) * shift, half + np.cos(angle) * shift
            u, v = _frame(x, y, cx, cy, angle)
            asphalt |= np.abs(v) < width / 2
            paving |= np.abs(v) < width / 2 + walk
            canvas.blocked |= np.abs(v) < width / 2 + walk + canvas.m(1.0)
            if width > canvas.m(5.0):
                dash = canvas.m(3.0)
                marking |= (np.abs(v) < max(0.06, canvas.m(0.07))) & (np.mod(u, 2 * dash) < dash)
            roads.append((cx, cy, angle, width, walk))
    canvas.material[paving] = M["paving"]
    canvas.material[asphalt] = M["asphalt"]
    canvas.material[marking & asphalt] = M["marking"]
    return roads


def paved_area(canvas, roads):
    """A courtyard, driveway or parking area next to a street."""
    rng = canvas.rng
    cx, cy, angle, width, walk = roads[rng.integers(len(roads))]
    along = rng.uniform(-0.6, 0.6) * canvas.extent
    side = rng.choice([-1.0, 1.0])
    depth, length = canvas.m(rng.uniform(3.0, 6.0)), canvas.m(rng.uniform(4.0, 8.0))
    across = side * (width / 2 + walk + depth / 2)
    c, s = np.cos(angle), np.sin(angle)
    px, py = cx + along * c - across * s, cy + along * s + across * c
    win = canvas.window(px, py, np.hypot(length, depth) / 2 + canvas.pixel_size)
    if win is None:
        return None
    sl, x, y = win
    u, v = _frame(x, y, px, py, angle)
    mask = (np.abs(u) <= length / 2) & (np.abs(v) <= depth / 2) & (canvas.material[sl] == M["grass"])
    canvas.material[sl][mask] = M["paving"]
    canvas.blocked[sl] |= mask
    return (px, py, angle, length, depth)


def building(canvas, roads, need):
    """A rectangular or L-shaped building with a gable, hip or flat roof."""
    rng = canvas.rng
    for _ in range(40):
        length, width = canvas.m(rng.uniform(8, 16)), canvas.m(rng.uniform(6, 11))
        if rng.random() < 0.7:
            angle = roads[0][2] + rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.03)
        else:
            angle = rng.uniform(0, np.pi)
        cx, cy = canvas.random_point(0.25)
        j, i = np.searchsorted(canvas.coords, [cx, cy])
        if i < canvas.n and j < canvas.n and canvas.blocked[i, j]:
            continue  # cheap early rejection: the centre is on a street or a building
        parts = [(0.0, 0.0, length, width)]  # (u, v) offsets of each part's centre
        if rng.random() < 0.35:  # L shape: a wing at one end
            wl, ww = length * rng.uniform(0.35, 0.6), width * rng.uniform(0.8, 1.4)
            parts.append((rng.choice([-1, 1]) * (length - wl) / 2, rng.choice([-1, 1]) * ww / 2, wl, ww))
        pad = canvas.m(1.5)
        win = canvas.window(cx, cy, np.hypot(length, 2 * width) + pad)
        if win is None:
            continue
        sl, x, y = win
        u0, v0 = _frame(x, y, cx, cy, angle)
        frames = [(u0 - pu, v0 - pv, pl, pw) for pu, pv, pl, pw in parts]
        inside = [(np.abs(u) <= pl / 2) & (np.abs(v) <= pw / 2) for u, v, pl, pw in frames]
        footprint = np.logical_or.reduce(inside)
        if (footprint & canvas.blocked[sl]).any() or canvas.tile_pixels(sl, footprint) < need:
            continue
        roof = rng.choice(["gable", "hip", "flat"], p=[0.45, 0.2, 0.35])
        eave = canvas.m(rng.uniform(3.5, 7.0))
        pitch = np.tan(np.radians(rng.uniform(28, 42)))
        height = np.zeros(x.shape, np.float32)
        detail = np.zeros_like(height)
        for mk, (u, v, pl, pw) in zip(inside, frames):
            to_edge = np.minimum(pl / 2 - np.abs(u), pw / 2 - np.abs(v))
            rows = pw / 2 - np.abs(v) if roof == "gable" else to_edge
            h = np.where(mk, eave + (rows * pitch if roof != "flat" else 0), 0)
            detail = np.where(mk & (h >= height), rows, detail)
            height = np.maximum(height, h)
        if roof == "flat":
            material = M["roof_flat"]
        else:
            material = M[rng.choice(["roof_light", "roof_dark", "roof_tile"], p=[0.3, 0.3, 0.4])]
        mat, hgt = canvas.material[sl], canvas.height[sl]
        mat[footprint] = material
        canvas.object_id[sl][footprint] = canvas.new_id()
        hgt[footprint] = height[footprint]
        canvas.detail[sl][footprint] = detail[footprint]
        if roof == "flat":
            parapet = footprint & (detail < canvas.m(0.35))
            mat[parapet] = M["parapet"]
            hgt[parapet] += canvas.m(0.4)
            for _ in range(rng.integers(1, 5)):  # skylights, air conditioning units
                fu, fv = rng.uniform(-0.3, 0.3) * length, rng.uniform(-0.3, 0.3) * width
                fixture = (np.abs(u0 - fu) <= canvas.m(rng.uniform(0.3, 0.9))) \
                    & (np.abs(v0 - fv) <= canvas.m(rng.uniform(0.3, 0.7))) & footprint & ~parapet
                mat[fixture] = M["roof_fixture"]
                hgt[fixture] += canvas.m(0.6)
        canvas.blocked[sl] |= np.logical_or.reduce(
            [(np.abs(u) <= pl / 2 + pad) & (np.abs(v) <= pw / 2 + pad) for u, v, pl, pw in frames])
        return True
    return False


def _blob(canvas, cx, cy, radius, raggedness):
    win = canvas.window(cx, cy, radius * (1 + 3 * raggedness))
    if win is None:
        return None
    sl, x, y = win
    d = np.hypot(x - cx, y - cy) / radius
    return sl, d, d < 1 + raggedness * canvas.wobble[sl]


def clutter(canvas):
    """Bare soil, a pond or small objects (bins, containers, stacked material)."""
    rng = canvas.rng
    kind = rng.choice(["soil", "object", "water"], p=[0.4, 0.45, 0.15])
    if kind == "object":
        for _ in range(30):
            cx, cy = canvas.random_point(0.05)
            length, width = canvas.m(rng.uniform(0.8, 3.0)), canvas.m(rng.uniform(0.6, 2.0))
            win = canvas.window(cx, cy, np.hypot(length, width) / 2 + canvas.pixel_size)
            if win is None:
                continue
            sl, x, y = win
            u, v = _frame(x, y, cx, cy, rng.uniform(0, np.pi))
            mask = (np.abs(u) <= length / 2) & (np.abs(v) <= width / 2)
            under = canvas.material[sl][mask]
            if mask.any() and np.isin(under, [M["grass"], M["paving"], M["soil"]]).all():
                canvas.material[sl][mask] = M["clutter_object"]
                canvas.object_id[sl][mask] = canvas.new_id()
                canvas.height[sl][mask] = canvas.m(rng.uniform(0.5, 1.5))
                return
        return
    cx, cy = canvas.random_point(0.05)
    blob = _blob(canvas, cx, cy, canvas.m(rng.uniform(1.5, 4.0)), 0.25)
    if blob is not None:
        sl, _, mask = blob
        mask &= canvas.material[sl] == M["grass"]
        canvas.material[sl][mask] = M[kind]
        canvas.object_id[sl][mask] = canvas.new_id()


def tree(canvas, near=None):
    """A crown: a ragged disc whose height is a dome (shading adds leaf clumps later)."""
    rng = canvas.rng
    for _ in range(30):
        if near is None:
            cx, cy = canvas.random_point(0.15)
        else:  # a neighbour in a group of trees
            cx, cy = near[0] + rng.normal(0, near[2]), near[1] + rng.normal(0, near[2])
        j, i = np.searchsorted(canvas.coords, [cx, cy])
        if not (0 <= i < canvas.n and 0 <= j < canvas.n) \
                or canvas.material[i, j] not in (M["grass"], M["soil"], M["tree"]):
            continue
        radius = canvas.m(rng.uniform(1.5, 4.0))
        top = canvas.m(rng.uniform(4.0, 11.0))
        blob = _blob(canvas, cx, cy, radius, 0.2)
        if blob is None:
            continue
        sl, d, crown = blob
        crown &= ~np.isin(canvas.material[sl], ROOFS)
        dome = top - radius + radius * np.sqrt(np.clip(1 - np.minimum(d, 1) ** 2, 0, 1))
        canvas.material[sl][crown] = M["tree"]
        canvas.object_id[sl][crown] = canvas.new_id()
        hgt = canvas.height[sl]
        hgt[crown] = np.maximum(hgt[crown], dome[crown])
        return cx, cy, radius
    return None


def car(canvas, roads, paved):
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
        win = canvas.window(cx, cy, length / 2 + canvas.pixel_size)
        if win is None:
            continue
        sl, x, y = win
        u, v = _frame(x, y, cx, cy, heading)
        body = (np.abs(u / (length / 2)) ** 4 + np.abs(v / (width / 2)) ** 4) <= 1
        if not body.any() or canvas.tile_pixels(sl, body) < 0.4 * np.count_nonzero(body):
            continue
        mat = canvas.material[sl]
        if not np.isin(mat[body], ROAD_SURFACES).all():
            continue
        rel = u / length  # -0.5 rear .. 0.5 front
        window = body & (((rel > 0.08) & (rel < 0.3)) | ((rel > -0.38) & (rel < -0.26))) \
            & (np.abs(v) < width * 0.42)
        mat[body] = M["car_body"]
        mat[window] = M["car_window"]
        canvas.object_id[sl][body] = canvas.new_id()
        roof = (rel > -0.26) & (rel < 0.08)
        canvas.height[sl][body] = np.where(roof[body], canvas.m(1.5), canvas.m(1.0))
        return True
    return False
