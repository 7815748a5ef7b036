"""Render a scene layout as a 3-band IR-R-G image in the style of one domain.

The radiance model, kept simple on purpose:

  reflectance = material spectrum (per domain) x per-object jitter x texture
  light       = ambient + (1 - ambient) x hill-shading(height) x (1 - cast shadow)
  image       = (mix x gain x reflectance x light x illumination ramp + haze) ** gamma,
                then sensor blur, noise and 8-bit quantisation.

A domain (``DomainStyle``) is a city photographed by another camera: its own
materials (season, roof and asphalt types), sun position, sensor gain, gamma, haze,
blur and noise, and optionally a band-mixing matrix (``mix``: another sensor's
overlapping band responses; none, i.e. diagonal, for SOURCE and TARGET). All domains
share the scene semantics (``layout.py``), so a good style translation can remove most
of the shift.

Two targets, one per SHIFT of create-sample-data: ``TARGET`` (radiometric, the default)
changes each class's colour but mostly keeps the order of the classes within each band,
so per-band histogram matching recovers much of the gap; ``SENSOR_SEASON`` reorders the
classes within bands (season, roof types) and mixes the bands, which no per-band
monotonic mapping can undo.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .materials import M, MATERIALS


@dataclass(frozen=True)
class DomainStyle:
    name: str
    pixel_size: float        # metres
    epsg: int
    origin: tuple            # easting, northing of the first tile's upper-left corner
    spectra: dict            # material -> (IR, R, G) reflectance in 0..1
    dry_grass: tuple         # grass colour in dry patches
    car_palette: tuple       # body colours (IR, R, G)
    clutter_palette: tuple   # colours of small clutter objects
    sun_azimuth: float       # degrees clockwise from north (image up)
    sun_elevation: float     # degrees
    ambient: tuple           # per band: light left in shadow (sky light is bluer)
    gain: tuple              # per band sensor gain
    haze: tuple              # per band additive path radiance
    gamma: float
    blur_px: float           # Gaussian sigma of the sensor blur, pixels
    noise: float             # per-pixel noise std, reflectance units
    ramp: float              # amplitude of a linear illumination ramp across a tile
    band_mix: tuple = None   # 3x3 sensor colour matrix (rows: output IR, R, G), None = diagonal


# Colours that both cities share (car paints and plastic objects are not local).
_CARS = ((0.80, 0.82, 0.84), (0.08, 0.08, 0.09), (0.42, 0.42, 0.44), (0.62, 0.62, 0.64),
         (0.55, 0.62, 0.12), (0.22, 0.10, 0.22), (0.30, 0.22, 0.30))
_CLUTTER = ((0.70, 0.45, 0.50), (0.15, 0.35, 0.55), (0.55, 0.55, 0.20), (0.25, 0.25, 0.27),
            (0.85, 0.80, 0.75))

# Source: a Vaihingen-like town in summer, 9 cm, crisp, saturated red vegetation.
SOURCE = DomainStyle(
    name="source", pixel_size=0.09, epsg=32632, origin=(496500.0, 5420500.0),
    spectra={
        "soil": (0.40, 0.34, 0.27), "clutter_object": (0.5, 0.5, 0.5), "water": (0.05, 0.10, 0.13),
        "roof_light": (0.50, 0.48, 0.47), "roof_dark": (0.24, 0.23, 0.25),
        "roof_tile": (0.46, 0.42, 0.24), "roof_flat": (0.40, 0.39, 0.39), "parapet": (0.80, 0.80, 0.80),
        "roof_fixture": (0.22, 0.22, 0.24), "grass": (0.60, 0.24, 0.28), "tree": (0.72, 0.17, 0.22),
        "car_body": (0.5, 0.5, 0.5), "car_window": (0.10, 0.11, 0.13), "asphalt": (0.33, 0.315, 0.325),
        "paving": (0.505, 0.475, 0.455), "marking": (0.85, 0.85, 0.85),
    },
    dry_grass=(0.48, 0.30, 0.28), car_palette=_CARS, clutter_palette=_CLUTTER,
    sun_azimuth=150.0, sun_elevation=60.0, ambient=(0.36, 0.40, 0.45),
    gain=(1.15, 1.08, 1.08), haze=(0.0, 0.0, 0.0), gamma=1.0, blur_px=0.6, noise=0.012, ramp=0.03,
)

# Target: a Potsdam-like city in early spring, 6 cm, another camera: desaturated
# orange-brown vegetation, bluish asphalt, red clay and slate roofs, hazier, softer.
TARGET = DomainStyle(
    name="target", pixel_size=0.06, epsg=32633, origin=(367500.0, 5808500.0),
    spectra={
        "soil": (0.30, 0.30, 0.28), "clutter_object": (0.5, 0.5, 0.5), "water": (0.06, 0.14, 0.18),
        "roof_light": (0.48, 0.49, 0.51), "roof_dark": (0.19, 0.20, 0.23),
        "roof_tile": (0.55, 0.38, 0.24), "roof_flat": (0.38, 0.39, 0.41), "parapet": (0.78, 0.80, 0.82),
        "roof_fixture": (0.18, 0.20, 0.24), "grass": (0.44, 0.33, 0.26), "tree": (0.58, 0.30, 0.20),
        "car_body": (0.5, 0.5, 0.5), "car_window": (0.10, 0.12, 0.15), "asphalt": (0.295, 0.32, 0.345),
        "paving": (0.46, 0.48, 0.485), "marking": (0.82, 0.84, 0.86),
    },
    dry_grass=(0.38, 0.34, 0.27), car_palette=_CARS, clutter_palette=_CLUTTER,
    sun_azimuth=205.0, sun_elevation=52.0, ambient=(0.48, 0.52, 0.58),
    gain=(1.0, 1.04, 1.06), haze=(0.03, 0.04, 0.05), gamma=0.85, blur_px=1.3, noise=0.03, ramp=0.08,
)

# Target of SHIFT sensor_season: a Potsdam-like city after a dry summer, 5 cm, seen by
# a camera whose band responses overlap (``band_mix``). The season changes each class
# its own way, and swaps orders that hold within single bands of the source: dead grass
# loses IR and gains red (grey-green in false colour instead of red), trees turn brown,
# while clay and light roofs get brighter in IR (pink in false colour, where the source's
# vegetation was) and asphalt and paving darken. Per-band histogram matching is one
# monotonic map per band: it keeps the source's order of the classes in every band and
# cannot unmix bands, so it sends source vegetation towards target roofs.
SENSOR_SEASON = DomainStyle(
    name="target", pixel_size=0.05, epsg=32633, origin=(367500.0, 5808500.0),
    spectra={
        "soil": (0.32, 0.36, 0.30), "clutter_object": (0.5, 0.5, 0.5), "water": (0.08, 0.16, 0.17),
        "roof_light": (0.70, 0.40, 0.40), "roof_dark": (0.48, 0.22, 0.26),
        "roof_tile": (0.74, 0.34, 0.22), "roof_flat": (0.62, 0.42, 0.40), "parapet": (0.85, 0.70, 0.68),
        "roof_fixture": (0.34, 0.16, 0.18), "grass": (0.34, 0.46, 0.30), "tree": (0.40, 0.30, 0.20),
        "car_body": (0.5, 0.5, 0.5), "car_window": (0.10, 0.12, 0.15), "asphalt": (0.20, 0.24, 0.28),
        "paving": (0.33, 0.36, 0.37), "marking": (0.75, 0.75, 0.75),
    },
    dry_grass=(0.30, 0.50, 0.32), car_palette=_CARS, clutter_palette=_CLUTTER,
    sun_azimuth=215.0, sun_elevation=48.0, ambient=(0.46, 0.50, 0.56),
    gain=(1.02, 1.0, 1.04), haze=(0.05, 0.06, 0.08), gamma=0.9, blur_px=1.2, noise=0.035, ramp=0.08,
    band_mix=((0.78, 0.17, 0.05), (0.12, 0.74, 0.14), (0.04, 0.22, 0.74)),
)

STYLES = {"source": SOURCE, "target": TARGET}

# Texture amplitudes (multiplicative, unit-std noise) per material: fine grain
# (~0.15 m), medium mottling (~0.6 m), coarse variation (~3 m).
_TEXTURE = {
    "soil": (0.10, 0.10, 0.10), "clutter_object": (0.03, 0.03, 0.0), "water": (0.02, 0.03, 0.05),
    "roof_light": (0.05, 0.03, 0.04), "roof_dark": (0.06, 0.03, 0.04), "roof_tile": (0.06, 0.04, 0.04),
    "roof_flat": (0.08, 0.05, 0.05), "parapet": (0.03, 0.0, 0.0), "roof_fixture": (0.04, 0.0, 0.0),
    "grass": (0.07, 0.08, 0.10), "tree": (0.16, 0.10, 0.06), "car_body": (0.02, 0.0, 0.0),
    "car_window": (0.03, 0.0, 0.0), "asphalt": (0.08, 0.04, 0.06), "paving": (0.06, 0.05, 0.06),
    "marking": (0.04, 0.03, 0.0),
}
_ROOF_ROWS = ("roof_light", "roof_dark", "roof_tile")  # gable/hip roofs show rows of tiles


def _noise(rng, shape, sigma_px):
    field = rng.standard_normal(shape).astype(np.float32)
    if sigma_px > 0.3:
        field = ndimage.gaussian_filter(field, sigma_px, mode="wrap")
    return field / (field.std() + 1e-6)


def _table(style):
    names = [name for name, _ in MATERIALS]
    colours = np.array([style.spectra[n] for n in names], np.float32)
    texture = np.array([_TEXTURE[n] for n in names], np.float32)
    return colours, texture


def _sun_vector(style):
    az, el = np.radians(style.sun_azimuth), np.radians(style.sun_elevation)
    # image axes: x to the east (columns), y to the south (rows)
    return np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)], np.float32)


def _hillshade(height, pixel_size, sun):
    """Direct light on a surface relative to flat ground (1 = flat, 0 = facing away)."""
    h = ndimage.gaussian_filter(height, 0.7)
    gy, gx = np.gradient(h, pixel_size)
    norm = np.sqrt(gx ** 2 + gy ** 2 + 1)
    cos_i = (-gx * sun[0] - gy * sun[1] + sun[2]) / norm
    return np.clip(cos_i / sun[2], 0.0, 1.8)


def _cast_shadow(height, pixel_size, sun):
    """1 where some object between this pixel and the sun rises above the sun ray."""
    horizontal = np.hypot(sun[0], sun[1])
    dx, dy = sun[0] / horizontal, sun[1] / horizontal  # towards the sun, pixels
    rise = sun[2] / horizontal * pixel_size            # metres the ray climbs per pixel
    shadow = np.zeros(height.shape, bool)
    n, m = height.shape
    steps = int(np.ceil(height.max() / rise)) if height.max() > 0 else 0
    for k in range(1, min(steps, max(n, m)) + 1):
        ox, oy = int(round(k * dx)), int(round(k * dy))
        if abs(ox) >= m or abs(oy) >= n:
            break
        # the height of the pixel k steps towards the sun, aligned with this pixel
        shifted = np.zeros_like(height)
        shifted[max(0, -oy):n - max(0, oy), max(0, -ox):m - max(0, ox)] = \
            height[max(0, oy):n - max(0, -oy), max(0, ox):m - max(0, -ox)]
        shadow |= shifted - k * rise > height + 0.05
    return shadow


def render(scene, style, rng):
    """Return the (3, H, W) uint8 IR-R-G image of the whole canvas (crop it after)."""
    material, height = scene.material, scene.height
    shape = material.shape
    colours, texture = _table(style)
    base = colours[material].transpose(2, 0, 1).copy()  # (3, H, W)

    # per-object colour: palettes for cars and clutter objects, jitter for everything
    ids = scene.object_id
    n_obj = int(ids.max()) + 1
    bright = rng.normal(1.0, 0.07, n_obj).astype(np.float32)
    tint = rng.normal(1.0, 0.03, (n_obj, 3)).astype(np.float32)
    bright[0], tint[0] = 1.0, 1.0
    car_pick = np.asarray(style.car_palette, np.float32)[rng.integers(len(style.car_palette), size=n_obj)]
    obj_pick = np.asarray(style.clutter_palette, np.float32)[rng.integers(len(style.clutter_palette), size=n_obj)]
    for name, pick in (("car_body", car_pick), ("clutter_object", obj_pick)):
        sel = material == M[name]
        base[:, sel] = pick[ids[sel]].T
    base *= (bright[ids] * tint[ids].transpose(2, 0, 1))

    # texture
    px = style.pixel_size
    fine, mid, coarse = (_noise(rng, shape, s / px) for s in (0.15, 0.6, 3.0))
    amp = texture[material]  # (H, W, 3)
    tex = 1 + amp[..., 0] * fine + amp[..., 1] * mid + amp[..., 2] * coarse
    base *= np.clip(tex, 0.3, 2.0)
    grass = material == M["grass"]
    dry = np.clip((coarse - 0.6) * 1.5, 0, 1) * grass
    base = base * (1 - dry) + np.asarray(style.dry_grass, np.float32)[:, None, None] * dry
    rows = np.isin(material, [M[n] for n in _ROOF_ROWS])
    base *= 1 + 0.06 * rows * np.sin(2 * np.pi * scene.detail / 0.33)

    # light: hill-shading (trees get bumps: leaf clumps), cast shadows with soft edges
    sun = _sun_vector(style)
    surface = height + (material == M["tree"]) * 0.5 * _noise(rng, shape, 0.35 / px)
    direct = _hillshade(surface, px, sun)
    shadow = ndimage.gaussian_filter(_cast_shadow(height, px, sun).astype(np.float32), 0.8)
    ambient = np.asarray(style.ambient, np.float32)[:, None, None]
    light = ambient + (1 - ambient) * direct * (1 - shadow)

    # illumination ramp across the tile (flight strip, view angle), sensor response
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32) / max(shape)
    ramp = 1 + style.ramp * ((xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle)) * 2
    gain = np.asarray(style.gain, np.float32)[:, None, None] * rng.normal(1.0, 0.03)
    signal = gain * base * light * ramp
    if style.band_mix is not None:  # another sensor's spectral response: bands mix
        signal = np.einsum("ij,jhw->ihw", np.asarray(style.band_mix, np.float32), signal)
    signal = signal + np.asarray(style.haze, np.float32)[:, None, None]
    signal = np.clip(signal, 0, 1) ** style.gamma
    signal = np.stack([ndimage.gaussian_filter(b, style.blur_px) for b in signal])
    signal += rng.normal(0, style.noise, signal.shape).astype(np.float32)
    return np.clip(np.rint(signal * 255), 0, 255).astype(np.uint8)
