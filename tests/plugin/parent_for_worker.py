"""A process that starts the LRM worker through the plugin's own client and then waits
to be killed (tests/plugin/test_parent_death.py). Prints ``CHILD <pid>`` once the child
reports its first progress, then keeps relaying until it is killed.

    python parent_for_worker.py <plugins folder holding lrm_adapt> <command> [args...]
"""

import sys

sys.path.insert(0, sys.argv[1])
from lrm_adapt.algorithms.worker import BackendRun  # noqa: E402


class Feedback:
    """Just enough of QgsProcessingFeedback for BackendRun (no QGIS application here)."""

    run = None
    told = False

    def isCanceled(self):  # noqa: N802
        return False

    def setProgress(self, value):  # noqa: N802
        if not self.told:
            print(f"CHILD {self.run.process.pid}", flush=True)
            self.told = True

    def pushInfo(self, message):  # noqa: N802
        pass

    pushWarning = pushDebugInfo = pushInfo


feedback = Feedback()
feedback.run = BackendRun(sys.argv[2], sys.argv[3:], feedback)
feedback.run.run()
