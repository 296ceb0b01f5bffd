"""Named steps of a scan, and a test-only way to stop the process at one of them.

The crash-safety tests (tests/test_crash_safety.py) run the real command line and kill
it with SIGKILL at every step boundary, then check that the next scan gives the findings
of a full scan. To kill it at an exact step without a debugger, the scan stops itself
(SIGSTOP) when it reaches the step named in the environment variable
BORDERWATCH_TEST_STOP_AT; the test sees the process stopped and kills it. Unset (always,
outside those tests), reaching a step does nothing.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

from borderwatch.errors import UsageError

ENVIRONMENT_VARIABLE = "BORDERWATCH_TEST_STOP_AT"

# In the order a scan reaches them.
STEPS = (
    # incremental: the state is open and its transaction begun
    "state-opened",
    # incremental: the first digests are in the state's table (not committed)
    "digests-appended",
    # incremental: every new input is read and digested, not yet recorded as read
    "inputs-read",
    # incremental: the inputs read are recorded, the transaction not yet committed
    "state-written",
    # incremental: the transaction is committed
    "state-committed",
    # the rules ran; nothing written to the output folder yet
    "evaluated",
    # every output is written in a temporary folder, none swapped in yet
    "outputs-written",
    # with --ledger: the swap's plan is in the staging folder, the record not written
    "ledger-plan-written",
    # with --ledger: the record naming the staged outputs is in the ledger, none moved
    "ledger-appended",
    # some outputs swapped in, not all (with --ledger: the files they replace are
    # already moved aside)
    "outputs-half-swapped",
    # every output swapped in; the "scan incomplete" mark not yet removed
    "outputs-swapped",
)


@dataclass(frozen=True)
class StepStop:
    """Where a test wants the scan to stop itself (None: nowhere, the normal case)."""

    step: str | None = None

    def __post_init__(self) -> None:
        if self.step is not None and self.step not in STEPS:
            raise UsageError(
                f"{ENVIRONMENT_VARIABLE}={self.step!r} is not a step of a scan; "
                f"the steps are: {', '.join(STEPS)}"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> StepStop:
        """The step named in BORDERWATCH_TEST_STOP_AT, if any."""
        value = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE)
        return cls(value or None)

    def reached(self, step: str) -> None:
        """Called by the scan at each step; stops the process at the chosen one."""
        if step not in STEPS:
            raise ValueError(f"not a step of a scan: {step!r}")
        if step == self.step:
            os.kill(os.getpid(), signal.SIGSTOP)
