"""Exit statuses, one classification for every command (``git bisect run``
reads them):

- 0 (GOOD): a complete, clean run;
- 1 (DEFECT): a judge found a guest-debugging defect;
- 2 (BAD_INPUT): the command line was wrong (a bad option, a missing file),
  said in one sentence before anything started;
- 125 (CANNOT_JUDGE): something kept the run from judging: QEMU or gdb died
  or froze, the guest never booted, mismatched or unusable inputs, a harness
  error (``git bisect run`` skips the commit);
- 130 / 143: interrupted by SIGINT (Ctrl-C) / SIGTERM, after the reports
  were written with the verdict "interrupted".
"""

GOOD = 0
DEFECT = 1
BAD_INPUT = 2
CANNOT_JUDGE = 125
INTERRUPTED_SIGINT = 130
INTERRUPTED_SIGTERM = 143

NAMES = {
    GOOD: "good (0)",
    DEFECT: "debug defect found (1)",
    BAD_INPUT: "bad input (2)",
    CANNOT_JUDGE: "could not judge (125)",
    INTERRUPTED_SIGINT: "interrupted (130)",
    INTERRUPTED_SIGTERM: "interrupted (143)",
}
