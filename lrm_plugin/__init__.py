"""QGIS-facing glue: the plugin class, the Processing provider and GUI actions."""
