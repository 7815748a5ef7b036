"""One run at a time per output folder: a lock file that names the process holding it.

Two ``lrm:adapt`` runs given the same OUTPUT_TRANSLATED_FOLDER would write translated
images under the same names, and each run's segmenter could train on the other run's
images: every file whole, the result silently wrong. The second run is refused instead,
with the first run's process id; a lock left by a process that no longer exists (a
crash, a kill) is taken over.
"""

import os
import sys
import threading

LOCK_NAME = ".lrm_adapt.lock"
# Lock files this process holds: QGIS runs algorithms as tasks in threads of one process,
# so the process id alone cannot tell two runs of the same QGIS apart.
_HELD = set()
_HELD_GUARD = threading.Lock()


class FolderBusy(RuntimeError):
    def __init__(self, folder, pid):
        super().__init__(f"{folder} is in use by another LRM Adapt run (process {pid}). Choose "
                         f"another folder, or wait until that run has finished.")
        self.pid = pid


def process_alive(pid):
    """Whether process ``pid`` exists (on Linux, macOS and Windows)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


class FolderLock:
    """``with FolderLock(folder):`` holds ``folder``; raises FolderBusy if a live run does."""

    def __init__(self, folder):
        self.folder = folder
        self.path = os.path.join(folder, LOCK_NAME)
        self.held = False

    def __enter__(self):
        with _HELD_GUARD:
            key = os.path.normcase(os.path.abspath(self.path))
            if key in _HELD:
                raise FolderBusy(self.folder, os.getpid())
            self._take()
            _HELD.add(key)
        return self

    def _take(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and holder != os.getpid() and process_alive(holder):
                    raise FolderBusy(self.folder, holder) from None
                try:  # stale: its process is gone
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self.held = True
            return
        raise FolderBusy(self.folder, self._holder())

    def _holder(self):
        try:
            with open(self.path, encoding="ascii") as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        if self.held:
            with _HELD_GUARD:
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                _HELD.discard(os.path.normcase(os.path.abspath(self.path)))
            self.held = False
        return False
