"""Land-cover class tables: names and colours.

Default: the six ISPRS classes in the paper's order. Users give their own table as
``CLASSES`` in one of three forms:

* text: ``"0 clutter 255,0,0; 1 building 0,0,255; 2 low vegetation 0,255,255"`` --
  entries separated by ``;`` or new lines, each ``index name r,g,b`` (the name may
  contain spaces; ``index`` may be omitted, then entries are numbered from 0);
* a CSV file with columns ``index,name,r,g,b`` (a header line is allowed);
* a QGIS ``.qml`` style of a paletted/unique-values raster renderer
  (``<paletteEntry value=".." label=".." color="#rrggbb"/>``).

Class indices must be 0..N-1 with N <= 254 (255 is the default ignore / nodata value).
"""

import csv
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..errors import LrmError

ISPRS_CLASSES = (
    ("clutter/background", (255, 0, 0)),
    ("building", (0, 0, 255)),
    ("low vegetation", (0, 255, 255)),
    ("tree", (0, 255, 0)),
    ("car", (255, 255, 0)),
    ("impervious surfaces", (255, 255, 255)),
)


@dataclass(frozen=True)
class ClassTable:
    names: tuple
    colors: tuple  # ((r, g, b), ...)

    def __post_init__(self):
        if not self.names:
            raise LrmError("The class table is empty.")
        if len(self.names) > 254:
            raise LrmError(f"At most 254 classes are supported, got {len(self.names)}.")
        if len(set(self.colors)) != len(self.colors):
            raise LrmError("Two classes in the class table share a colour; colour-coded labels "
                           "would be ambiguous.")

    def __len__(self):
        return len(self.names)

    @property
    def color_table(self):
        return {i: c for i, c in enumerate(self.colors)}

    def to_text(self):
        return "; ".join(f"{i} {n} {r},{g},{b}" for i, (n, (r, g, b)) in
                         enumerate(zip(self.names, self.colors)))

    def to_dict(self):
        return {"names": list(self.names), "colors": [list(c) for c in self.colors]}

    @classmethod
    def from_dict(cls, data):
        """The table ``to_dict`` wrote (model files' ``classes``); LrmError when ``data`` is
        not one name and one r,g,b colour (0..255) per class."""
        names = data.get("names") if isinstance(data, dict) else None
        colors = data.get("colors") if isinstance(data, dict) else None
        if not (isinstance(names, list) and isinstance(colors, list)
                and len(names) == len(colors) and all(isinstance(n, str) for n in names)
                and all(isinstance(c, list) and len(c) == 3
                        and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255
                                for v in c) for c in colors)):
            raise LrmError("The class table in the model metadata is not one name and one "
                           "r,g,b colour (0..255) per class; the file is damaged or was "
                           "edited: retrain it or ask for the original file.")
        return cls(tuple(names), tuple(tuple(c) for c in colors))


def default_classes():
    return ClassTable(tuple(n for n, _ in ISPRS_CLASSES), tuple(c for _, c in ISPRS_CLASSES))


def _from_entries(entries, source):
    entries = sorted(entries, key=lambda e: e[0])
    indices = [e[0] for e in entries]
    if indices != list(range(len(entries))):
        raise LrmError(f"Class indices in {source} must be 0..{len(entries) - 1} without gaps; "
                       f"got {indices}.")
    for index, _, color in entries:
        if len(color) != 3 or any(not 0 <= c <= 255 for c in color):
            raise LrmError(f"Class {index} in {source}: colour must be r,g,b in 0..255, got {color}.")
    return ClassTable(tuple(e[1] for e in entries), tuple(tuple(e[2]) for e in entries))


_TEXT_ENTRY = re.compile(r"^\s*(?:(\d+)\s*[:\s]\s*)?(.+?)\s*[:\s]\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")


def parse_class_text(text):
    entries = []
    for n, part in enumerate(p for p in re.split(r"[;\n]", text) if p.strip()):
        m = _TEXT_ENTRY.match(part)
        if not m:
            raise LrmError(f"Cannot read class entry {part.strip()!r}: write 'index name r,g,b', "
                           f"e.g. '0 clutter 255,0,0; 1 building 0,0,255'.")
        index = int(m.group(1)) if m.group(1) is not None else n
        entries.append((index, m.group(2).strip(), [int(m.group(i)) for i in (3, 4, 5)]))
    return _from_entries(entries, "CLASSES")


def _parse_csv(path):
    entries = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if not row or row[0].strip().startswith("#"):
                continue
            if not row[0].strip().isdigit():  # header
                continue
            if len(row) < 5:
                raise LrmError(f"{path}: each row needs index,name,r,g,b; got {row}.")
            entries.append((int(row[0]), row[1].strip(), [int(v) for v in row[2:5]]))
    return _from_entries(entries, path)


def _parse_qml(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise LrmError(f"{path} is not a readable QML file: {exc}") from None
    entries = []
    for entry in root.iter("paletteEntry"):
        color = entry.get("color", "#000000").lstrip("#")
        rgb = [int(color[i:i + 2], 16) for i in (0, 2, 4)] if len(color) >= 6 else None
        entries.append((int(float(entry.get("value"))), entry.get("label") or entry.get("value"), rgb))
    if not entries:
        raise LrmError(f"{path} has no paletted-raster entries (<paletteEntry>); save the style "
                       f"of a 'Paletted/Unique values' raster layer.")
    return _from_entries(entries, path)


def load_class_table(spec=None):
    """A ClassTable from None/"" (ISPRS default), a text spec, or a CSV/QML file path."""
    if spec is None or not str(spec).strip():
        return default_classes()
    spec = str(spec).strip()
    if os.path.isfile(spec):
        if spec.lower().endswith(".qml"):
            return _parse_qml(spec)
        return _parse_csv(spec)
    if spec.lower().endswith((".csv", ".qml", ".txt")):
        raise LrmError(f"Class table file not found: {spec}")
    return parse_class_text(spec)
