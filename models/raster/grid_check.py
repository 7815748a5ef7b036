"""Do two rasters lie on the same pixel grid (size, geotransform, CRS)?"""

from osgeo import osr


def _same_crs(a, b):
    if not a or not b or a == b:
        return True
    sa, sb = osr.SpatialReference(), osr.SpatialReference()
    try:
        sa.ImportFromWkt(a)
        sb.ImportFromWkt(b)
    except RuntimeError:
        return False
    return bool(sa.IsSame(sb))


def grid_difference(a, b):
    """None when RasterInfos ``a`` and ``b`` share a grid, else a sentence saying how they differ.

    Rasters without any georeferencing (plain images) are compared by size only; the
    caller may warn that they are assumed to be aligned (see ``georeferenced_both``).
    """
    if (a.width, a.height) != (b.width, b.height):
        return f"sizes differ ({a.width}x{a.height} and {b.width}x{b.height} pixels)"
    if not (a.has_georeference and b.has_georeference):
        return None
    ga, gb = a.geotransform, b.geotransform
    pixel = max(abs(ga[1]), abs(ga[5]), 1e-12)
    if any(abs(x - y) > 1e-3 * pixel for x, y in zip(ga, gb)):
        return f"georeferencing differs (geotransform {tuple(ga)} and {tuple(gb)})"
    if not _same_crs(a.projection, b.projection):
        return "coordinate reference systems differ"
    return None


def georeferenced_both(a, b):
    return a.has_georeference and b.has_georeference
