"""
Runs one unittest module verbosely and prints, as its last line, each test's outcome as JSON:

    EM-SIM-RESULTS {"test_1_simple_operations": "ok", "test_5_errors": "FAIL", ...}

The clients print as they go, which interleaves with unittest's own lines; this line is what
test/python/python.test.ts reads. Exit status 0 only when every test passed.

    /usr/bin/python3 test/python/run_suite.py test_examples
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _record(self, test, outcome):
        self.outcomes[test.id().rsplit(".", 1)[-1]] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "ERROR")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run_suite.py MODULE")
    if not os.environ.get("EM_SIM_URL"):
        sys.exit("set EM_SIM_URL, EM_SIM_USER and EM_SIM_PASSWORD")
    suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=RecordingResult, stream=sys.stderr)
    result = runner.run(suite)
    sys.stdout.flush()
    print("EM-SIM-RESULTS " + json.dumps(result.outcomes, sort_keys=True), flush=True)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
