"""What users of siltfs need to test against it: a fault-injecting UFS and crash points.

from siltfs.testing import inject_faults
faults = inject_faults(fs)                      # wrap the root mount's UFS
faults.fail_next("move", 2, ".silt_staging/*")  # the next two commits fail
gate = faults.block("open_write", ".silt_staging/*")
...; gate.wait_reached(5); ...; gate.release()
"""

from siltfs.testing.faults import FaultInjectingUfs, Gate, InjectedFault, inject_faults

__all__ = ["FaultInjectingUfs", "Gate", "InjectedFault", "inject_faults"]
