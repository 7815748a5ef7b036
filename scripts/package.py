"""Build the plugin ZIP for *Plugins > Install from ZIP* and the QGIS plugin repository.

    python scripts/package.py [--output-folder dist] [--release]

Writes ``dist/lrm_adapt-<version>.zip`` with one top folder ``lrm_adapt/`` holding the
runtime files only (the plugin, the algorithms, the backend, resources, requirements,
LICENSE, README): no tests, benchmarks, scripts, docs, virtual environments, build or
output folders, caches or byte code. The files are taken from git's index when this is a
git checkout (so nothing untracked slips in), else from the folder.

Before writing, the package is checked the way plugins.qgis.org checks an upload
(required and boolean metadata, URL syntax, icon and LICENSE inside the ZIP, an
identifier as top folder, no byte code or __pycache__), plus what a reviewer asks for
(changelog, tags, homepage, a real e-mail). Problems are printed; with ``--release`` any
problem fails the build (exit 1), without it the ZIP is still written (fine for
Install from ZIP, not for an upload).
"""

import argparse
import configparser
import os
import re
import subprocess
import sys
import zipfile
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_NAME = "lrm_adapt"
RUNTIME = ("__init__.py", "metadata.txt", "LICENSE", "README.md", "requirements.txt",
           "constraints.txt", "lrm_plugin/", "algorithms/", "models/", "resources/")
REQUIRED = ("name", "description", "version", "qgisMinimumVersion", "author", "email",
            "about", "tracker", "repository")
RECOMMENDED = ("homepage", "changelog", "tags", "icon", "qgisMaximumVersion")
BOOLEANS = ("experimental", "deprecated", "server", "hasProcessingProvider")
PLACEHOLDER_EMAIL = re.compile(r"@(example\.(org|com|net)|localhost)$|^your[._]?e?mail", re.I)
MAX_BYTES = 25_000_000  # the plugin repository's upload limit


def runtime_files(root=ROOT):
    """Relative paths of the files that go into the ZIP, sorted."""
    try:
        listed = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True,
                                check=True).stdout.decode().split("\0")
        listed = [p for p in listed if p and os.path.isfile(os.path.join(root, p))]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        listed = [os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files]
    keep = [p for p in listed
            if any(p == r or (r.endswith("/") and p.startswith(r)) for r in RUNTIME)
            and "__pycache__" not in p.split("/") and not p.endswith((".pyc", ".partial"))]
    return sorted(keep)


def read_metadata(text):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    if not parser.has_section("general"):
        raise ValueError("metadata.txt has no [general] section")
    return {k: v.strip() for k, v in parser.items("general")}


def metadata_problems(meta, names=None):
    """What the plugin repository (or its reviewers) would reject, as sentences.

    ``names``: the ZIP's member names below the top folder, to check the icon and LICENSE.
    """
    problems = [f"metadata.txt: required key '{key}' is missing or empty"
                for key in REQUIRED if not meta.get(key)]
    problems += [f"metadata.txt: recommended key '{key}' is missing or empty"
                 for key in RECOMMENDED if not meta.get(key)]
    for key in BOOLEANS:
        if key in meta and meta[key].lower() not in ("true", "false", "yes", "no", "1", "0"):
            problems.append(f"metadata.txt: '{key}' must be True or False, not {meta[key]!r}")
    for key in ("tracker", "repository", "homepage"):
        url = urlparse(meta.get(key, ""))
        if meta.get(key) and not (url.scheme in ("http", "https") and url.netloc):
            problems.append(f"metadata.txt: '{key}' is not a web address: {meta[key]!r}")
    if "/" in meta.get("author", ""):
        problems.append("metadata.txt: 'author' cannot contain slashes")
    email = meta.get("email", "")
    if email and (PLACEHOLDER_EMAIL.search(email) or "@" not in email):
        problems.append(f"metadata.txt: 'email' {email!r} is a placeholder: the plugin repository "
                        "shows it to users and writes to it; set the maintainers' address")
    if not re.fullmatch(r"\d+(\.\d+){1,2}", meta.get("version", "")):
        problems.append(f"metadata.txt: 'version' should be like 1.2.3, not {meta.get('version')!r}")
    if "supportsQt6" in meta:
        problems.append("metadata.txt: 'supportsQt6' is deprecated on plugins.qgis.org; "
                        "qgisMaximumVersion >= 4.0 declares QGIS 4 (Qt6) support")
    if names is not None:
        if meta.get("icon") and meta["icon"].lstrip("./") not in names:
            problems.append(f"the icon {meta['icon']!r} is not in the package")
        if "LICENSE" not in names:
            problems.append("LICENSE is not in the package (the plugin repository requires it)")
    return problems


def build(output_folder, root=ROOT):
    """Write the ZIP; return (path, problems)."""
    with open(os.path.join(root, "metadata.txt"), encoding="utf-8") as f:
        meta = read_metadata(f.read())
    files = runtime_files(root)
    problems = metadata_problems(meta, names=set(files))
    os.makedirs(output_folder, exist_ok=True)
    path = os.path.join(output_folder, f"{PACKAGE_NAME}-{meta.get('version', '0')}.zip")
    partial = path + ".partial"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in files:
            archive.write(os.path.join(root, rel), f"{PACKAGE_NAME}/{rel}")
    if os.path.getsize(partial) > MAX_BYTES:
        problems.append(f"the ZIP is {os.path.getsize(partial) / 1e6:.1f} MB, over the "
                        f"repository's {MAX_BYTES / 1e6:.0f} MB limit")
    os.replace(partial, path)  # never a half-written ZIP under the final name
    return path, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-folder", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--release", action="store_true",
                        help="fail (exit 1) on any problem the plugin repository would reject")
    args = parser.parse_args(argv)
    path, problems = build(args.output_folder)
    with zipfile.ZipFile(path) as archive:
        count, size = len(archive.namelist()), os.path.getsize(path)
    print(f"wrote {path} ({count} files, {size / 1e3:.0f} kB)")
    for problem in problems:
        print(f"not ready for plugins.qgis.org: {problem}", file=sys.stderr)
    return 1 if problems and args.release else 0


if __name__ == "__main__":
    sys.exit(main())
