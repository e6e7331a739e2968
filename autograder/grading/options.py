"""The kit's grading options, in nbgrader's configuration system (`c.Grader.<option>`).

They are read from the one configuration, `autograder/nbgrader_config.py` (the repository's
`nbgrader_config.py` loads it for nbgrader itself), and can be overridden on the command line
(`--Grader.memory_mb=2048`, or the short flags `--memory`, `--timeout`, `--workers`).
`autograder grade --help-all` lists them with their help text. The time one cell may take is
nbgrader's own `Execute.timeout`; `Grader.limits` is the one place a `Limits` is built from
configuration.
"""

from __future__ import annotations

from traitlets import Bool, Integer, List, Unicode
from traitlets.config import Configurable
from traitlets.utils.importstring import import_item

from autograder.sandbox.policy import Limits

# StripForeignGradeIds runs again after DeduplicateIds, which leaves nbgrader metadata without
# a grade_id on the duplicates (nbgrader's OverwriteCells would trip over it). RestoreMissingCells
# puts back the master's cells a submission lacks (an exercise added after its release).
# SkipTeachingCells, last, marks the master's teaching-only cells that no later cell needs,
# which SandboxedExecute then leaves unrun.
SANITIZE_STEPS = [
    "autograder.grading.steps.strip_foreign_grade_ids.StripForeignGradeIds",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "autograder.grading.steps.strip_foreign_grade_ids.StripForeignGradeIds",
    "autograder.grading.steps.restore_missing_cells.RestoreMissingCells",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
    "autograder.grading.steps.skip_teaching_cells.SkipTeachingCells",
]
# The kernel only recorded; VerifyGradeCells decides every test cell here, from the records.
SCORE_STEPS = [
    "autograder.grading.steps.verify_grade_cells.VerifyGradeCells",
    "nbgrader.preprocessors.LimitOutput",
]
MIN_CPU_SECONDS = 10


class Grader(Configurable):
    """How `autograder grade`, `ci` and `demo` grade: workers, limits, the steps and their order."""

    workers = Integer(0, help="Notebooks graded at once, one kernel each; 0: one per CPU core."
                      ).tag(config=True)
    wall_clock = Integer(120, help="Seconds one notebook may run in all (kernel start included). "
                         "One cell gets at most Execute.timeout seconds of it.").tag(config=True)
    memory_mb = Integer(1024, help="Memory limit of a kernel, in MB (RLIMIT_AS); a submission "
                        "that goes over it ends 'killed for memory'.").tag(config=True)
    worker_memory_mb = Integer(2048, help="Memory of each grading worker process, in MB "
                               "(RLIMIT_DATA): what a kernel sends cannot make a worker take "
                               "more; a worker that dies costs only the notebook it was "
                               "grading ('grader worker died'). 0: no cap.").tag(config=True)
    cpu_seconds = Integer(0, help="CPU seconds a kernel may use (RLIMIT_CPU); 0: as many as "
                          f"wall_clock, at least {MIN_CPU_SECONDS}.").tag(config=True)
    file_size_mb = Integer(16, help="Largest file a kernel may write, in MB (RLIMIT_FSIZE)."
                           ).tag(config=True)
    output_bytes = Integer(200_000, help="Output a notebook may produce; beyond it output is "
                           "dropped as it arrives (a flood costs neither memory nor disk)."
                           ).tag(config=True)
    scratch_mb = Integer(256, help="Size in MB of each tmpfs a kernel writes to (its /tmp, "
                         "scratch folder and /dev/shm) when bwrap isolates it; without bwrap, "
                         "the most it may write in all (its scratch folder, /tmp, /var/tmp, "
                         "/dev/shm) before it is stopped 'over the disk quota'."
                         ).tag(config=True)
    require_sandbox = Bool(False, help="Refuse to grade when bwrap cannot isolate student code "
                           "(otherwise: grade with resource limits only, and warn)."
                           ).tag(config=True)
    bwrap = Bool(True, help="Isolate kernels with bwrap where it works. False runs them "
                 "the fallback way even there (an unprivileged uid of their own where the "
                 "grader is root): for trying the fallbacks; --require-sandbox then refuses."
                 ).tag(config=True)
    warm_kernels = Bool(True, help="Fork kernels from a warm sandboxed zygote where bwrap "
                        "isolates them (about a second less CPU per notebook).").tag(config=True)
    pids_cgroup = Bool(True, help="Bound each kernel's processes and threads (64) "
                       "by a pids cgroup where the grader may make one (cgroup v1's "
                       "pids hierarchy, or a delegated cgroup v2 subtree); otherwise, or when "
                       "False, by RLIMIT_NPROC.").tag(config=True)
    sanitize_steps = List(Unicode(), default_value=SANITIZE_STEPS, help="nbgrader "
                          "preprocessors run before execution, in order, by import name. Each "
                          "runs as nbgrader runs it, so `c.<Step>.enabled = False` skips it."
                          ).tag(config=True)
    score_steps = List(Unicode(), default_value=SCORE_STEPS, help="nbgrader preprocessors run "
                       "after execution, in order, by import name (`enabled` holds here too)."
                       ).tag(config=True)

    def limits(self) -> Limits:
        """The sandbox limits these options give; a cell's share is `Execute.timeout`."""
        timeout = self.config.Execute.get("timeout", Limits.cell_timeout)
        timeout = None if timeout is None else int(timeout)  # a str from the command line
        if timeout is None or timeout <= 0:  # nbclient: None or -1 is no timeout
            timeout = self.wall_clock
        return Limits(memory_mb=self.memory_mb, wall_clock=self.wall_clock,
                      cell_timeout=min(timeout, self.wall_clock),
                      cpu_seconds=self.cpu_seconds or max(self.wall_clock, MIN_CPU_SECONDS),
                      file_size_mb=self.file_size_mb, output_bytes=self.output_bytes,
                      scratch_mb=self.scratch_mb)

    def steps(self, names: list[str]) -> list[type]:
        """The step classes named (import names), in order."""
        return [import_item(name) for name in names]

