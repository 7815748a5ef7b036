"""The materials of the synthetic scenes: several per ISPRS class, each rendered with its
own spectrum and texture (``render.py``), and the groups the scene painters use."""

import numpy as np

# Class indices (ISPRS order, as in models.labels.classes.default_classes()).
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
ROOFS = [M[n] for n in ("roof_light", "roof_dark", "roof_tile", "roof_flat", "parapet",
                        "roof_fixture")]
ROAD_SURFACES = [M["asphalt"], M["paving"], M["marking"]]
