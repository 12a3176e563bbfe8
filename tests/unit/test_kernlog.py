"""framework.kernlog against the console corpus in tests/corpus/kernlog.

Every corpus file is real console output (captured from the default guest by
scripts/capture-corpus, cut or merged from such captures, or copied from a
cited upstream report) with the reports a correct parser finds in its header.
"""

from __future__ import annotations

import json
import random
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from guestdbg import kernlog
from guestdbg.kernlog import (
    NMI_AFTER_INJECTION,
    ConsoleParser,
    Expected,
    KernelReport,
    is_tf_leak,
    parse_file,
    parse_text,
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus" / "kernlog"
FILES = sorted(CORPUS.glob("*.log"))
TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\] ?", re.M)


@dataclass
class CorpusFile:
    path: Path
    text: str  # the whole file: the header lines are ordinary console text to the parser
    reports: list[dict[str, str]]
    expected: list[Expected]
    header: list[str]


def _pairs(spec: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(spec))


def load(path: Path) -> CorpusFile:
    text = path.read_bytes().decode(errors="replace")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    reports = [
        _pairs(line.split(":", 1)[1])
        for line in header
        if line.startswith("# report:") and line.split(":", 1)[1].strip() != "none"
    ]
    expected = [
        Expected(**_pairs(line.split(":", 1)[1]))
        for line in header
        if line.startswith("# expected:")
    ]
    return CorpusFile(path, text, reports, expected, header)


def signature(reports: list[KernelReport]) -> list[tuple[object, ...]]:
    return [
        (
            (r.kind, r.title, r.truncated, r.tf_leak, r.function, r.module, r.location),
            (r.cpu, r.pid, r.comm),
            tuple((f.function, f.context, f.reliable, f.module) for f in r.frames),
        )
        for r in reports
    ]


def field_of(report: KernelReport, key: str) -> str:
    if key == "file":
        return str(report.file)
    value = getattr(report, key)
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(scope="module", params=FILES, ids=[f.stem for f in FILES])
def corpus(request: pytest.FixtureRequest) -> CorpusFile:
    return load(request.param)


def test_the_corpus_has_every_kind_the_issue_asks_for() -> None:
    kinds = {r["kind"] for f in FILES for r in load(f).reports}
    assert kinds >= {
        "WARNING",
        "BUG",
        "OOPS",
        "PANIC",
        "SOFT_LOCKUP",
        "HARD_LOCKUP",
        "RCU_STALL",
        "HUNG_TASK",
        "KASAN",
        "UBSAN",
        "LOCKDEP",
        "REFCOUNT",
        "LIST_CORRUPTION",
        "NMI",
        "KMSAN",
        "KCSAN",
        "KFENCE",
        "MEMORY_LEAK",
        "WORKQUEUE_LOCKUP",
    }
    names = {f.stem for f in FILES}
    assert {"boot-clean-smp1", "boot-clean-smp2", "truncated-eof", "interleaved-splats"} <= names


def test_every_corpus_file_says_where_it_comes_from(corpus: CorpusFile) -> None:
    header = "\n".join(corpus.header)
    assert "source:" in header and "edits:" in header
    assert "# report:" in header
    # no path of the machine that made the capture
    assert "/root/" not in corpus.text and "/work/" not in corpus.text


def test_corpus_file_yields_the_reports_in_its_header(corpus: CorpusFile) -> None:
    got = parse_text(corpus.text, corpus.expected)
    assert [r.kind for r in got] == [w["kind"] for w in corpus.reports], [r.title for r in got]
    for want, report in zip(corpus.reports, got, strict=True):
        for key, value in want.items():
            assert field_of(report, key) == value, (key, report.title)


def test_chunks_of_any_size_give_identical_reports(corpus: CorpusFile) -> None:
    whole = [r.to_json() for r in parse_text(corpus.text, corpus.expected)]
    rng = random.Random(corpus.path.name)
    for _ in range(3):
        parser = ConsoleParser(corpus.expected)
        i = 0
        while i < len(corpus.text):
            n = rng.choice((1, 2, 7, 64, 500, 4096))
            parser.feed(corpus.text[i : i + n])
            i += n
        assert [r.to_json() for r in parser.close()] == whole


def test_lf_line_ends_read_like_crlf(corpus: CorpusFile) -> None:
    assert signature(parse_text(corpus.text.replace("\r\n", "\n"))) == signature(
        parse_text(corpus.text)
    )


def test_a_log_without_printk_timestamps_reads_the_same(corpus: CorpusFile) -> None:
    plain = TIMESTAMP.sub("", corpus.text.replace("\r\n", "\n"))
    with_ts, without = parse_text(corpus.text), parse_text(plain)
    assert [r.start_time for r in without] == [None] * len(without)
    if corpus.path.stem == "interleaved-splats":
        # Two CPUs' identical frames cannot be told apart without timestamps
        # (or caller ids): the reports and the WARN still are.
        assert [r.kind for r in without] == [r.kind for r in with_ts]
        assert without[0].title == "WARNING in exc_debug" and without[0].tf_leak
        return
    assert signature(without) == signature(with_ts)


def test_line_numbers_point_at_the_report_lines(corpus: CorpusFile) -> None:
    # Lines outside reports are skipped in bulk: the numbering must not drift.
    lines = corpus.text.split("\n")
    for r in parse_text(corpus.text, corpus.expected):
        first, last = r.raw.split("\n")[0], r.raw.split("\n")[-1]
        assert lines[r.start_line - 1].rstrip("\r") == first.rstrip("\r")
        assert lines[r.end_line - 1].rstrip("\r") == last.rstrip("\r")


def test_an_escape_sequence_inside_a_header_word_does_not_hide_it() -> None:
    text = (CORPUS / "tf-warn.log").read_text(errors="replace")
    noisy = text.replace("WARNING: CPU", "WARN\x1b[0mING: CPU", 1).replace(
        "------------[ cut here ]", "------\x00------[ cut here ]", 1
    )
    assert "\x1b[0mING" in noisy
    assert signature(parse_text(noisy)) == signature(parse_text(text))


def test_ansi_escapes_and_nul_bytes_do_not_matter(corpus: CorpusFile) -> None:
    rng = random.Random(3)
    noisy = "".join(
        rng.choice(("", "", "", "\x00", "\x1b[0m", "\x1b[1;31m", "\x00\x00")) + line
        for line in corpus.text.splitlines(keepends=True)
    )
    assert signature(parse_text(noisy)) == signature(parse_text(corpus.text))


# -- what a report says ------------------------------------------------------------


def test_the_tf_leak_warn_reads_like_a_kernel_developer_would() -> None:
    path = CORPUS / "tf-warn.log"
    (r,) = parse_file(path)
    assert (r.kind, r.title, r.tf_leak, r.truncated) == (
        "WARNING",
        "WARNING in exc_debug",
        True,
        False,
    )
    assert r.location == "arch/x86/kernel/traps.c:1089" and r.function == "exc_debug"
    assert (r.cpu, r.comm, r.taint, r.release) == (1, "sh", "O", "6.1.192-guestdbg")
    assert r.rip == "0010:exc_debug+0xb9/0xdf"
    assert r.modules == ("guestdbg_test",)
    contexts = [f.context for f in r.frames]
    assert contexts[0] == "#DB" and r.frames[0].function == "asm_exc_debug"
    assert contexts.count("TASK") == len(contexts) - 1
    trigger = next(f for f in r.frames if f.function == "trigger_set")
    assert trigger.module == "guestdbg_test" and trigger.reliable
    assert not all(f.reliable for f in r.frames)  # the "? func" guesses are kept, marked
    # raw is the console text of the report, exactly, from "cut here" to "end trace"
    lines = path.read_text(errors="replace").replace("\r\n", "\n").split("\n")
    assert r.raw == "\n".join(lines[r.start_line - 1 : r.end_line])
    assert "cut here" in r.raw.split("\n")[0] and "end trace" in r.raw.split("\n")[-1]
    assert r.start_time is not None and r.end_time is not None and r.start_time <= r.end_time


def test_a_plain_warn_on_is_not_the_tf_leak() -> None:
    (r,) = parse_file(CORPUS / "warn-on.log")
    assert r.kind == "WARNING" and not r.tf_leak and r.function == "trigger_set"
    assert r.location == "guestdbg_test.c:183"


@pytest.mark.parametrize(
    ("location", "function", "leak"),
    [
        ("arch/x86/kernel/traps.c:1089", "exc_debug", True),
        ("arch/x86/kernel/traps.c:1120", "exc_debug_kernel", True),
        ("arch/x86/kernel/traps.c:1089", "exc_int3", False),
        ("arch/x86/kernel/hw_breakpoint.c:1089", "exc_debug", False),
    ],
)
def test_tf_leak_is_the_warn_in_exc_debug_at_traps_c(
    location: str, function: str, leak: bool
) -> None:
    report = KernelReport(kind="WARNING", title="", header="", location=location, function=function)
    assert is_tf_leak(report) is leak
    assert (
        is_tf_leak(
            KernelReport(kind="BUG", title="", header="", location=location, function=function)
        )
        is False
    )


def test_an_injected_nmi_is_a_finding_unless_declared_expected() -> None:
    path = CORPUS / "nmi-unknown.log"
    (plain,) = parse_file(path)
    assert plain.kind == "NMI" and not plain.expected and plain.is_finding
    (declared,) = parse_file(path, [NMI_AFTER_INJECTION])
    assert declared.expected and declared.expected_because == NMI_AFTER_INJECTION.why
    assert kernlog.findings([declared]) == []


def test_a_reset_ends_the_open_report_as_truncated_and_the_new_boot_is_clean() -> None:
    reports = parse_file(CORPUS / "truncated-reset.log")
    assert [(r.kind, r.truncated) for r in reports] == [("BUG", True)]
    assert reports[0].frames, "the frames printed before the reset are kept"


def test_a_panic_mid_splat_is_part_of_the_splat_which_is_cut_short() -> None:
    (lockup,) = parse_file(CORPUS / "truncated-panic.log")
    assert (lockup.kind, lockup.truncated, lockup.corrupted) == ("SOFT_LOCKUP", True, True)
    assert lockup.corrupted_reason is not None and "panic" in lockup.corrupted_reason
    assert lockup.message == "sysrq triggered crash"
    assert "Kernel panic - not syncing: sysrq triggered crash" in lockup.raw
    # the guilty frame comes from the lockup's own frames, not the panic's
    assert lockup.function == "trigger_set"


def test_an_oops_keeps_its_executive_summary_and_the_killed_shell_is_not_part_of_it() -> None:
    (r,) = parse_file(CORPUS / "oops-null.log")
    assert r.raw.split("\n")[-1].lstrip("[ .0123456789]").startswith("CR2:")
    assert "Killed" not in r.raw and "GUESTDBG-READY" not in r.raw


def test_the_rcu_stall_carries_every_backtrace_it_printed() -> None:
    (r,) = parse_file(CORPUS / "rcu-stall-irqoff.log")
    printed = (CORPUS / "rcu-stall-irqoff.log").read_text().split("detected stalls", 1)[1]
    assert "NMI backtrace for cpu" in printed  # the other CPU's view, always printed
    for backtrace in ("NMI backtrace for cpu", "RCU grace-period kthread stack dump"):
        assert (backtrace in r.raw) == (backtrace in printed), backtrace
    # syzbot's convention: the frame above the first dispatching one (vfs_write)
    # of the stalled task's stack, not the spinning function
    assert r.function == "kernfs_fop_write_iter"
    assert any(f.function == "trigger_set" for f in r.frames)


def test_printk_caller_ids_separate_two_cpus_interleaved_line_by_line() -> None:
    """CONFIG_PRINTK_CALLER prefixes every line with its task or CPU. The
    default guest's kernel does not have it, so this test adds such prefixes
    to the real WARN and hung-task reports ([ T47] and [ T26]: the writing
    shell and a khungtaskd), drops the timestamps, and alternates the two
    reports line by line: the caller ids alone must keep them apart."""

    def region(name: str, start: str, end: str) -> list[str]:
        lines = (CORPUS / name).read_text(errors="replace").replace("\r\n", "\n").split("\n")
        i = next(n for n, ln in enumerate(lines) if start in ln)
        j = next(n for n in range(i, len(lines)) if end in lines[n])
        return [TIMESTAMP.sub("", ln) for ln in lines[i : j + 1]]

    warn = ["[    T47] " + ln for ln in region("tf-warn.log", "cut here", "end trace")]
    hung = ["[    T26] " + ln for ln in region("hung-task.log", "blocked for more", "</TASK>")]
    merged = [ln for pair in zip(warn, hung, strict=False) for ln in pair]
    merged += warn[len(hung) :] + hung[len(warn) :]
    alone = parse_text("\n".join(warn)) + parse_text("\n".join(hung))
    together = parse_text("\n".join(merged))
    assert signature(sorted(together, key=lambda r: r.kind)) == signature(
        sorted(alone, key=lambda r: r.kind)
    )


def test_reports_come_out_as_soon_as_they_end() -> None:
    text = (CORPUS / "tf-warn.log").read_text(errors="replace")
    parser = ConsoleParser()
    seen_at = None
    for no, line in enumerate(text.splitlines(keepends=True), 1):
        if parser.feed(line):
            seen_at = no
            break
    (r,) = parser.reports
    assert seen_at == r.end_line, "the WARN is reported on its end-trace line"


def test_feed_after_close_is_refused() -> None:
    parser = ConsoleParser()
    parser.close()
    with pytest.raises(ValueError):
        parser.feed("x\n")


def test_the_format_table_is_data() -> None:
    kinds = {f.kind for f in kernlog.FORMATS} | {r.kind for r in kernlog.REFINEMENTS}
    assert len(kernlog.FORMATS) >= 15 and "RCU_STALL" in kinds and "REFCOUNT" in kinds
    for fmt in kernlog.FORMATS:
        # headers are matched where they start in a line (text may be glued before)
        assert not fmt.header.pattern.startswith("^") and fmt.titles
        assert fmt.kind in kernlog.formats.KINDS


def _literal_starts(items: list[tuple[object, object]]) -> list[str]:
    """The literal strings a parsed regex can start with, each cut at its
    first element that is not literal (marked by a NUL): the text a header of
    that row begins with, whatever the rest of the line holds."""
    import re._constants as c  # the regex parser's own tree, to read a row's header

    outs = [""]
    for op, av in items:
        if op is c.LITERAL:
            outs = [o + chr(av) for o in outs]  # type: ignore[call-overload]
            continue
        if op is c.SUBPATTERN:
            sub = _literal_starts(list(av[3]))  # type: ignore[index]
        elif op is c.BRANCH:
            sub = [x for b in av[1] for x in _literal_starts(list(b))]  # type: ignore[index]
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[:2] == (0, 1):  # type: ignore[index]
            sub = [*_literal_starts(list(av[2])), ""]  # type: ignore[index]
        else:
            return [o + "\0" for o in outs]
        outs = [o + x for o in outs for x in sub]
    return outs


def test_the_header_hint_finds_every_rows_header() -> None:
    """HEADER_HINT is what a line is searched for before the rows are tried
    where it hits: every way each row's header can begin must be a hit there."""
    import re._parser as sre

    for fmt in kernlog.FORMATS:
        starts = _literal_starts(list(sre.parse(fmt.header.pattern)))
        assert starts, fmt.header.pattern
        for start in starts:
            text = start.split("\0", 1)[0]
            hit = kernlog.formats.HEADER_HINT.search(text)
            assert text and hit is not None and hit.start() == 0, (fmt.header.pattern, text)


# -- linear in the size of the console ----------------------------------------------


def test_work_grows_linearly_with_the_log_and_memory_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No clock: count the work. Parsing k copies of the corpus must cost k
    times the work of one copy, with a bounded number of open reports and a
    bounded line buffer (the speed itself is scripts/bench-kernlog's job)."""
    one = "".join(f.read_text(errors="replace") for f in FILES)
    calls = {"score": 0, "classify": 0}
    score, classify = kernlog.parser._Open.score, kernlog.parser.classify_rest

    def counted_score(self: kernlog.parser._Open, *args: object) -> int:
        calls["score"] += 1
        return score(self, *args)  # type: ignore[arg-type]

    def counted_classify(text: str) -> tuple[int, object]:
        calls["classify"] += 1
        return classify(text)

    monkeypatch.setattr(kernlog.parser._Open, "score", counted_score)
    monkeypatch.setattr(kernlog.parser, "classify_rest", counted_classify)

    def work(copies: int) -> tuple[int, int, int]:
        calls.update(score=0, classify=0)
        parser = ConsoleParser()
        text = one * copies
        most_open = longest = 0
        for i in range(0, len(text), 65536):
            parser.feed(text[i : i + 65536])
            most_open = max(most_open, len(parser._open) + len(parser._lingering))
            longest = max(longest, len(parser._partial))
        n = len(parser.close())
        assert most_open <= 4 and longest < 4096
        return calls["score"] + calls["classify"], n, most_open

    w1, n1, _ = work(1)
    w8, n8, _ = work(8)
    assert n8 >= 8 * n1 - 8  # a file boundary may merge or split a couple of reports
    assert 7.6 * w1 <= w8 <= 8.4 * w1


# -- guestdbg kernlog ------------------------------------------------------------


def guestdbg(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guestdbg", "kernlog", *args],
        cwd=REPO,
        input=stdin.decode(errors="replace") if stdin else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_kernlog_json_lists_every_report_and_exits_1() -> None:
    files = [str(CORPUS / "tf-warn.log"), str(CORPUS / "upstream-ubsan.log")]
    done = guestdbg(*files, "--json")
    assert done.returncode == 1, done.stderr
    items = json.loads(done.stdout)
    assert [i["title"] for i in items] == [
        "WARNING in exc_debug",
        "UBSAN: shift-out-of-bounds in initialize_cpsch",
        "UBSAN: array-index-out-of-bounds in rtw_get_tx_power_params",
    ]
    for item in items:
        assert {"kind", "title", "tf_leak", "location", "function", "frames", "truncated"} <= set(
            item
        )
    assert items[0]["tf_leak"] is True and items[1]["tf_leak"] is False
    assert items[0]["location"] == "arch/x86/kernel/traps.c:1089"
    assert items[0]["frames"][0] == {
        "function": "asm_exc_debug",
        "offset": 0x1A,
        "size": 0x40,
        "module": None,
        "context": "#DB",
        "reliable": True,
        "source": None,
        "inline": False,
    }
    assert items[0]["file"] == files[0]


def test_kernlog_text_output_is_readable() -> None:
    done = guestdbg(str(CORPUS / "tf-warn.log"))
    assert done.returncode == 1
    assert "tf-warn.log:192: WARNING in exc_debug  [TF leak]" in done.stdout
    assert "at arch/x86/kernel/traps.c:1089 in exc_debug" in done.stdout
    assert "<TASK> trigger_set+0xb0/0x582 [guestdbg_test]" in done.stdout
    assert done.stdout.rstrip().endswith("1 report(s) in 1 file, 1 finding(s), 1 TF leak(s)")


def test_kernlog_on_a_clean_boot_exits_0() -> None:
    done = guestdbg(str(CORPUS / "boot-clean-smp1.log"), str(CORPUS / "boot-clean-smp2.log"))
    assert done.returncode == 0
    assert done.stdout.strip() == "guestdbg kernlog: no kernel reports in 2 files"
    json_done = guestdbg(str(CORPUS / "boot-clean-smp1.log"), "--json")
    assert (json_done.returncode, json.loads(json_done.stdout)) == (0, [])


def test_kernlog_reads_stdin() -> None:
    done = guestdbg("-", "--json", stdin=(CORPUS / "panic-sysrq.log").read_bytes())
    assert done.returncode == 1
    (item,) = json.loads(done.stdout)
    assert (item["file"], item["title"]) == ("<stdin>", "kernel panic: sysrq triggered crash")


def test_kernlog_names_a_missing_file_in_one_sentence() -> None:
    done = guestdbg("does-not-exist.log")
    assert done.returncode == 2
    assert done.stderr.strip() == "guestdbg: no console log at does-not-exist.log"


# -- formats seen in syzkaller's public testdata -----------------------------------
# Short excerpts of real consoles that syzbot captured, from syzkaller's
# pkg/report/testdata/linux/report/N (each cites its N and the console lines it
# takes, verbatim; the excerpts end before their reports do).

# syzkaller pkg/report/testdata/linux/report/115, console lines 2-4
OLD_LOCKDEP_BRACKETS = (
    "[   76.649866] [ BUG: bad unlock balance detected! ]\n"
    "[   76.654695] 4.9.65-g8ae26d1 #98 Not tainted\n"
    "[   76.658991] -------------------------------------\n"
)

# syzkaller pkg/report/testdata/linux/report/360, console lines 3-20
GPF_IN_THUNK = (
    "[   51.920573] general protection fault: 0000 [#1] PREEMPT SMP KASAN\n"
    "[   51.926803] CPU: 1 PID: 5670 Comm: syz-executor439 Not tainted 4.20"
    ".0-rc1-next-20181107+ #107\n"
    "[   51.935630] Hardware name: Google Google Compute Engine/Google Comp"
    "ute Engine, BIOS Google 01/01/2011\n"
    "[   51.944987] RIP: 0010:__x86_indirect_thunk_rbx+0x10/0x20\n"
    "[   51.950426] Code: 90 0f ae e8 eb f9 48 89 04 24 c3 0f 1f 44 00 00 6"
    "6 2e 0f 1f 84 00 00 00 00 00 e8 07 00 00 00 f3 90 0f ae e8 eb f9 48 89"
    " 1c 24 <c3> 0f 1f 44 00 00 66 2e 0f 1f 84 00 00 00 00 00 e8 07 00 00 0"
    "0 f3\n"
    "[   51.969311] RSP: 0018:ffff8801d89af2b0 EFLAGS: 00010293\n"
    "[   51.974657] RAX: ffff8801d49723c0 RBX: 894cdffffc000000 RCX: ffffffff81ed555d\n"
    "[   51.981912] RDX: 0000000000000000 RSI: ffffffff81ed5c9e RDI: ffff8801d89af338\n"
    "[   51.989163] RBP: ffff8801d89af4a0 R08: ffff8801d49723c0 R09: ffffed003b5e5b67\n"
    "[   51.996423] R10: ffffed003b5e5b67 R11: ffff8801daf2db3b R12: ffff8801d798da00\n"
    "[   52.003684] R13: ffff8801d89af338 R14: 1ffff1003b135e5b R15: dffffc0000000000\n"
    "[   52.010937] FS:  0000000001292880(0000) GS:ffff8801daf00000(0000) knlGS:0000000000000000\n"
    "[   52.019142] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"
    "[   52.025108] CR2: 0000000020e2aff8 CR3: 000000000946a000 CR4: 00000000001406e0\n"
    "[   52.032381] DR0: 0000000000000000 DR1: 0000000000000000 DR2: 0000000000000000\n"
    "[   52.039643] DR3: 0000000000000000 DR6: 00000000fffe0ff0 DR7: 0000000000000400\n"
    "[   52.047009] Call Trace:\n"
    "[   52.095282]  locks_remove_file+0x148/0x5c0\n"
)

# syzkaller pkg/report/testdata/linux/report/530, console lines 1-22
UNLOCK_IMBALANCE_ARM64 = (
    "[  753.902734][ T4405] =====================================\n"
    "[  753.903682][ T4405] WARNING: bad unlock balance detected!\n"
    "[  753.904679][ T4405] 5.9.0-12994-gf9893351acae #15 Not tainted\n"
    "[  753.905336][ T4405] -------------------------------------\n"
    "[  753.905757][ T4405] syz-fuzzer/4405 is trying to release lock (&mm->mmap_lock) at:\n"
    "[  753.906721][ T4405] [<ffffa00010726344>] __might_fault+0x154/0x1b0\n"
    "[  753.907110][ T4405] but there are no more locks to release!\n"
    "[  753.907490][ T4405] \n"
    "[  753.907490][ T4405] other info that might help us debug this:\n"
    "[  753.908261][ T4405] no locks held by syz-fuzzer/4405.\n"
    "[  753.908865][ T4405] \n"
    "[  753.908865][ T4405] stack backtrace:\n"
    "[  753.910040][ T4405] CPU: 1 PID: 4405 Comm: syz-fuzzer Not tainted 5"
    ".9.0-12994-gf9893351acae #15\n"
    "[  753.910746][ T4405] Hardware name: linux,dummy-virt (DT)\n"
    "[  753.911978][ T4405] Call trace:\n"
    "[  753.912644][ T4405]  dump_backtrace+0x0/0x4d0\n"
    "[  753.913320][ T4405]  show_stack+0x2c/0x80\n"
    "[  753.914002][ T4405]  dump_stack+0x1b0/0x254\n"
    "[  753.914652][ T4405]  print_unlock_imbalance_bug+0x170/0x188\n"
    "[  753.915352][ T4405]  lock_release+0x69c/0xa68\n"
    "[  753.916058][ T4405]  __might_fault+0x170/0x1b0\n"
    "[  753.916798][ T4405]  restore_fpsimd_context+0x418/0x798\n"
)

# syzkaller pkg/report/testdata/linux/report/160, console lines 1-30
FAULT_IN_TIMER_IRQ = (
    "[  190.751093] BUG: unable to handle kernel paging request at ffffffffffffffff\n"
    "[  190.757101] IP: 0xffffffffffffffff\n"
    "[  190.757101] PGD 7e10067 \n"
    "[  190.757101] P4D 7e10067 \n"
    "[  190.757101] PUD 7e12067 \n"
    "[  190.757101] PMD 0 \n"
    "[  190.757101] \n"
    "[  190.757101] Oops: 0010 [#1] SMP\n"
    "[  190.757101] Dumping ftrace buffer:\n"
    "[  190.757101]    (ftrace buffer empty)\n"
    "[  190.757101] Modules linked in:\n"
    "[  190.757101] CPU: 1 PID: 12327 Comm: syz-executor5 Tainted: G    B           4.13.0+ #35\n"
    "[  190.757101] Hardware name: Google Google Compute Engine/Google Comp"
    "ute Engine, BIOS Google 01/01/2011\n"
    "[  190.757101] task: ffff8801deb8d880 task.stack: ffff8801aa900000\n"
    "[  190.757101] RIP: 0010:0xffffffffffffffff\n"
    "[  190.757101] RSP: 0018:ffff88021fd07d10 EFLAGS: 00010006\n"
    "[  190.757101] RAX: 0000000000000000 RBX: 0000000080000100 RCX: 0000000000000000\n"
    "[  190.757101] RDX: ffff8802030b2f48 RSI: aaaaaaaaaaaab000 RDI: ffffffffffffffff\n"
    "[  190.757101] RBP: ffff88021fd07d90 R08: 0000000001080020 R09: 0000000000000002\n"
    "[  190.757101] R10: ffff88021fd07cc8 R11: 0000000000000000 R12: ffffffffffffffff\n"
    "[  190.757101] R13: ffffffff885293b0 R14: 0000000000000000 R15: ffff88021fd19b48\n"
    "[  190.757101] FS:  00007f80206db700(0000) GS:ffff88021fd00000(0000) knlGS:0000000000000000\n"
    "[  190.757101] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"
    "[  190.757101] CR2: ffffffffffffffff CR3: 0000000007e0f000 CR4: 00000000001406e0\n"
    "[  190.757101] DR0: 0000000020000000 DR1: 0000000000000000 DR2: 0000000000000000\n"
    "[  190.757101] DR3: 0000000000000000 DR6: 00000000fffe0ff0 DR7: 0000000000000600\n"
    "[  190.757101] Call Trace:\n"
    "[  190.757101]  <IRQ>\n"
    "[  190.757101]  ? call_timer_fn+0x2b1/0x630\n"
    "[  190.757101]  __run_timers+0xeef/0x1390\n"
)

# syzkaller pkg/report/testdata/linux/report/280, console lines 1-39
STALL_IN_IOCTL = (
    "[  885.637820] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n"
    "[  885.644147] rcu: \t(detected by 1, t=10502 jiffies, g=132945, q=115)\n"
    "[  885.650574] rcu: All QSes seen, last rcu_preempt kthread activity 1"
    "0498 (4295025713-4295015215), jiffies_till_next_fqs=1, root ->qsmask 0"
    "x0\n"
    "[  885.663229] syz-executor7   R  running task    21280  8024   5432 0x00000002\n"
    "[  885.670447] Call Trace:\n"
    "[  885.673034]  <IRQ>\n"
    "[  885.675201]  sched_show_task.cold.83+0x2b6/0x30a\n"
    "[  885.711132]  print_other_cpu_stall.cold.79+0xa83/0xba5\n"
    "[  885.764802]  rcu_check_callbacks+0xafc/0x1990\n"
    "[  885.897413]  update_process_times+0x2d/0x70\n"
    "[  885.901759]  tick_sched_handle+0x9f/0x180\n"
    "[  885.905940]  tick_sched_timer+0x45/0x130\n"
    "[  885.910010]  __hrtimer_run_queues+0x41c/0x10d0\n"
    "[  885.966004]  hrtimer_interrupt+0x313/0x780\n"
    "[  885.970274]  smp_apic_timer_interrupt+0x1a1/0x760\n"
    "[  886.031595]  apic_timer_interrupt+0xf/0x20\n"
    "[  886.035836]  </IRQ>\n"
    "[  886.038088] RIP: 0010:vmx_read_guest_seg_ar+0x127/0x270\n"
    "[  886.062366] RSP: 0018:ffff8801a035ea40 EFLAGS: 00000202 ORIG_RAX: ffffffffffffff13\n"
    "[  886.070085] RAX: 0000000000000093 RBX: 0000000000000002 RCX: ffffc90004d15000\n"
    "[  886.077363] RDX: 0000000000004818 RSI: ffffffff811c3301 RDI: ffffffff8803e9ac\n"
    "[  886.084637] RBP: ffff8801a035ea68 R08: ffff8801bfe0a140 R09: ffff8801c1f7c480\n"
    "[  886.091910] R10: ffffed00383ef891 R11: ffff8801c1f7c48b R12: ffff8801c1f78a80\n"
    "[  886.099184] R13: 0000000000004818 R14: 0000000000000000 R15: 0000000000100000\n"
    "[  886.111255]  vmx_get_cpl+0x5b/0x90\n"
    "[  886.114813]  kvm_fetch_guest_virt+0x65/0x1c0\n"
    "[  886.123486]  __do_insn_fetch_bytes+0x45b/0x950\n"
    "[  886.136686]  x86_decode_insn+0x1544/0x54c0\n"
    "[  886.149892]  x86_emulate_instruction+0x833/0x1fc0\n"
    "[  886.171431]  kvm_mmu_page_fault+0x396/0x1b30\n"
    "[  886.299270]  handle_ept_violation+0x29e/0x6a0\n"
    "[  886.320472]  vmx_handle_exit+0x2f7/0x17e0\n"
    "[  886.345943]  vcpu_enter_guest+0x14a9/0x62e0\n"
    "[  886.447583]  kvm_arch_vcpu_ioctl_run+0x375/0x16e0\n"
    "[  886.457476]  kvm_vcpu_ioctl+0x72b/0x1150\n"
    "[  886.510921]  do_vfs_ioctl+0x1de/0x1720\n"
    "[  886.567519]  ksys_ioctl+0xa9/0xd0\n"
    "[  886.570985]  __x64_sys_ioctl+0x73/0xb0\n"
    "[  886.574886]  do_syscall_64+0x1b9/0x820\n"
)

# syzkaller pkg/report/testdata/linux/report/285, console lines 1-55
STALL_WITH_GP_KTHREAD_DUMP = (
    "[  396.651023] INFO: rcu_sched self-detected stall on CPU\n"
    "[  396.656449] \t0-...!: (120232 ticks this GP) idle=3da/1/461168601842"
    "7387906 softirq=85066/85067 fqs=87 \n"
    "[  396.666018] \t (t=125000 jiffies g=45941 c=45940 q=632561)\n"
    "[  396.671551] rcu_sched kthread starved for 96651 jiffies! g45941 c45"
    "940 f0x2 RCU_GP_WAIT_FQS(3) ->state=0x0 ->cpu=1\n"
    "[  396.682013] RCU grace-period kthread stack dump:\n"
    "[  396.686747] rcu_sched       R  running task    22584     9      2 0x80000000\n"
    "[  396.693925] Call Trace:\n"
    "[  396.696504]  __schedule+0x801/0x1e30\n"
    "[  396.721528]  schedule+0xef/0x430\n"
    "[  396.760095]  schedule_timeout+0x138/0x240\n"
    "[  396.773155]  rcu_gp_kthread+0x6b5/0x1940\n"
    "[  396.902194]  kthread+0x345/0x410\n"
    "[  396.914410]  ret_from_fork+0x3a/0x50\n"
    "[  396.918117] NMI backtrace for cpu 0\n"
    "[  396.921726] CPU: 0 PID: 8 Comm: ksoftirqd/0 Not tainted 4.17.0-rc4+ #48\n"
    "[  396.928465] Hardware name: Google Google Compute Engine/Google Comp"
    "ute Engine, BIOS Google 01/01/2011\n"
    "[  396.937797] Call Trace:\n"
    "[  396.940361]  <IRQ>\n"
    "[  396.942495]  dump_stack+0x1b9/0x294\n"
    "[  396.955257]  nmi_cpu_backtrace.cold.4+0x19/0xce\n"
    "[  396.965085]  nmi_trigger_cpumask_backtrace+0x151/0x192\n"
    "[  396.970349]  arch_trigger_cpumask_backtrace+0x14/0x20\n"
    "[  396.975523]  rcu_dump_cpu_stacks+0x175/0x1c2\n"
    "[  396.984915]  check_cpu_stall.isra.61.cold.80+0x36c/0x59a\n"
    "[  397.045471]  rcu_check_callbacks+0x21b/0xad0\n"
    "[  397.099148]  update_process_times+0x2d/0x70\n"
    "[  397.103455]  tick_sched_handle+0x9f/0x180\n"
    "[  397.107586]  tick_sched_timer+0x45/0x130\n"
    "[  397.111633]  __hrtimer_run_queues+0x3e3/0x10a0\n"
    "[  397.164906]  hrtimer_interrupt+0x2f3/0x750\n"
    "[  397.169132]  smp_apic_timer_interrupt+0x15d/0x710\n"
    "[  397.200493]  apic_timer_interrupt+0xf/0x20\n"
    "[  397.204703]  </IRQ>\n"
    "[  397.206926] RIP: 0010:unwind_next_frame.part.7+0x8b/0x9c0\n"
    "[  397.212439] RSP: 0018:ffff8801d9aaebb0 EFLAGS: 00000246 ORIG_RAX: ffffffffffffff13\n"
    "[  397.220131] RAX: 1ffff1003b355da3 RBX: ffff8801d9aaecc8 RCX: 0000000000000007\n"
    "[  397.227380] RDX: dffffc0000000000 RSI: ffffffff86e8b04f RDI: ffff8801d9aaecc8\n"
    "[  397.234633] RBP: ffff8801d9aaeca0 R08: ffff8801d9aaed00 R09: ffff8801d9a9c200\n"
    "[  397.241882] R10: ffffed003b355da3 R11: ffff8801d9aaed1f R12: 1ffff1003b355d7b\n"
    "[  397.249135] R13: 0000000000000000 R14: ffff8801d9a9c200 R15: ffff8801d9aaed18\n"
    "[  397.284735]  unwind_next_frame+0x3e/0x50\n"
    "[  397.288784]  __save_stack_trace+0x6e/0xd0\n"
    "[  397.297403]  save_stack_trace+0x1a/0x20\n"
    "[  397.301360]  save_stack+0x43/0xd0\n"
    "[  397.415393]  kasan_kmalloc+0xc4/0xe0\n"
    "[  397.419094]  kasan_slab_alloc+0x12/0x20\n"
    "[  397.423094]  kmem_cache_alloc+0x12e/0x760\n"
    "[  397.427240]  sctp_chunkify+0xce/0x400\n"
    "[  397.455406]  _sctp_make_chunk+0x157/0x280\n"
    "[  397.459538]  sctp_make_heartbeat+0x8f/0x430\n"
    "[  397.483422]  sctp_sf_heartbeat.isra.23+0x26/0x180\n"
    "[  397.488250]  sctp_sf_sendbeat_8_3+0x38e/0x550\n"
    "[  397.492731]  sctp_do_sm+0x1ab/0x7160\n"
    "[  397.565731]  sctp_generate_heartbeat_event+0x218/0x450\n"
    "[  397.571003]  call_timer_fn+0x230/0x940\n"
)

# syzkaller pkg/report/testdata/linux/report/127, console lines 1-4
REBOOT_AFTER_PROGRAM = (
    "tkill(r8, 0x13)\n"
    "mmap(&(0x7f0000000000/0x1000)=nil, 0x1000, 0x3, 0x32, 0xffffffffffffffff, 0x0)\n"
    "SeaBIOS (version 1.8.2-20171012_061934-google)\n"
    "Total RAM Size = 0x00000001e0000000 = 7680 MiB\n"
)

# syzkaller pkg/report/testdata/linux/report/750, console lines 1-5
KCSAN_ASSERT = (
    "[   67.053553][ T4926] ==================================================================\n"
    "[   67.061656][ T4926] BUG: KCSAN: assert: race in dequeue_entities+0x6df/0x760\n"
    "[   67.068875][ T4926]\n"
    "[   67.071200][ T4926] race at unknown origin, with assert no writes t"
    "o 0xffff8881001cb1e8 of 4 bytes by task 4926 on cpu 0:\n"
    "[   67.082412][ T4926]  dequeue_entities+0x6df/0x760\n"
)

# syzkaller pkg/report/testdata/linux/report/655, console lines 2-8
NESTED_LOCK_NOT_TAKEN = (
    "[ 1078.040755][ T3315] ==================================\n"
    "[ 1078.042081][ T3315] WARNING: Nested lock was not taken\n"
    "[ 1078.043153][ T3316] ntfs3: loop5: Failed to load $Extend.\n"
    "[ 1078.043337][ T3315] 6.0.0-rc6-syzkaller-17742-gc194837ebb57 #0 Not tainted\n"
    "[ 1078.046447][ T3315] ----------------------------------\n"
    "[ 1078.047725][ T3315] syz-executor253/3315 is trying to lock:\n"
    "[ 1078.049217][ T3315] ffff0000c495a9d8 (&s->s_inode_list_lock){+.+.}-"
    "{2:2}, at: evict+0x90/0x334\n"
)

# syzkaller pkg/report/testdata/linux/report/240, console lines 1-14
ARM_WARNING_UNWIND = (
    "------------[ cut here ]------------\n"
    "WARNING: CPU: 0 PID: 8775 at net/ipv6/xfrm6_tunnel.c:345 xfrm6_tunnel_net_exit+0x84/0x104\n"
    "Kernel panic - not syncing: panic_on_warn set ...\n"
    "\n"
    "CPU: 0 PID: 8775 Comm: kworker/u10:2 Not tainted 4.17.0-rc1+ #11\n"
    "Hardware name: ARM-Versatile Express\n"
    "Workqueue: netns cleanup_net\n"
    "[<8011218c>] (unwind_backtrace) from [<8010e300>] (show_stack+0x18/0x1c)\n"
    "[<8010e300>] (show_stack) from [<80b12478>] (dump_stack+0xa0/0xc0)\n"
    "[<80b12478>] (dump_stack) from [<801349a8>] (panic+0x104/0x2cc)\n"
    "[<801349a8>] (panic) from [<8013479c>] (warn_slowpath_fmt+0x0/0x5c)\n"
    "[<8013479c>] (warn_slowpath_fmt) from [<ffffffff>] (0xffffffff)\n"
    "Exception stack(0x8d2d3e90 to 0x8d2d3ed8)\n"
    "3e80:                                     00000000 00000000 9f7003c0 9f700000\n"
)

# syzkaller pkg/report/testdata/linux/report/162, console lines 4-36
GPF_IN_LOCK_CORE = (
    "[   27.260634] general protection fault: 0000 [#1] PREEMPT SMP KASAN\n"
    "[   27.260638] Dumping ftrace buffer:\n"
    "[   27.260641]    (ftrace buffer empty)\n"
    "[   27.260644] Modules linked in:\n"
    "[   27.260651] CPU: 1 PID: 3377 Comm: syzkaller685434 Not tainted 4.4.107-g610c835 #4\n"
    "[   27.260654] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS "
    "Google 01/01/2011\n"
    "[   27.260658] task: ffff8800b823c740 task.stack: ffff8801d94c8000\n"
    "[   27.260671] RIP: 0010:[<ffffffff8123487f>]  [<ffffffff8123487f>] __lock_acquire+0x61"
    "f/0x4b50\n"
    "[   27.260675] RSP: 0018:ffff8801d94cf880  EFLAGS: 00010086\n"
    "[   27.260678] RAX: dffffc0000000000 RBX: dead4ead00000000 RCX: ffffffff81237ade\n"
    "[   27.260682] RDX: 1ffff1003a313890 RSI: 0000000000000008 RDI: ffff8801d189c480\n"
    "[   27.260685] RBP: ffff8801d94cfa20 R08: 0000000000000001 R09: 0000000000000001\n"
    "[   27.260688] R10: 0000000000000001 R11: 1ffff1003b299f22 R12: 0000000000000000\n"
    "[   27.260692] R13: ffff8800b823c740 R14: ffff8801d189c478 R15: 0000000000000000\n"
    "[   27.260697] FS:  0000000000000000(0000) GS:ffff8801db300000(0063) knlGS:00000000f47d"
    "3b40\n"
    "[   27.260701] CS:  0010 DS: 002b ES: 002b CR0: 0000000080050033\n"
    "[   27.260704] CR2: 00000000206f6000 CR3: 00000001d0a15000 CR4: 00000000001406e0\n"
    "[   27.260713] DR0: 0000000000000000 DR1: 0000000000000000 DR2: 0000000000000000\n"
    "[   27.260717] DR3: 0000000000000000 DR6: 00000000fffe0ff0 DR7: 0000000000000400\n"
    "[   27.260718] Stack:\n"
    "[   27.260725]  ffff8801d0ee0818 ffff8800b4b59d90 ffff8801d94cfa00 ffffffff8149e232\n"
    "[   27.260733]  ffff8801d94cf8b0 ffffffff00000000 ffff8800b823c740 ffff8800b823cfb0\n"
    "[   27.260739]  0000000000000288 ffff8800b823c740 0000000000000002 0000000000000002\n"
    "[   27.260741] Call Trace:\n"
    "[   27.260751]  [<ffffffff8149e232>] ? handle_mm_fault+0x3f2/0x3190\n"
    "[   27.260758]  [<ffffffff81234260>] ? debug_check_no_locks_freed+0x2c0/0x2c0\n"
    "[   27.260764]  [<ffffffff8148979e>] ? vmacache_update+0xfe/0x130\n"
    "[   27.260772]  [<ffffffff810db470>] ? __do_page_fault+0x380/0xa00\n"
    "[   27.260778]  [<ffffffff8123a61e>] lock_acquire+0x15e/0x460\n"
    "[   27.260787]  [<ffffffff825b8a89>] ? sg_remove_request+0x69/0x110\n"
    "[   27.260794]  [<ffffffff83773a1e>] _raw_write_lock_irqsave+0x4e/0x70\n"
    "[   27.260800]  [<ffffffff825b8a89>] ? sg_remove_request+0x69/0x110\n"
    "[   27.260806]  [<ffffffff825b8a89>] sg_remove_request+0x69/0x110\n"
)

# syzkaller pkg/report/testdata/linux/report/20, console lines 1-3
LOCK_CORE_ONLY = (
    "[  149.188010] BUG: unable to handle kernel NULL pointer dereference at 000000000000058c\n"
    "unrelateed line\n"
    "[  149.188010] IP: [<ffffffff8148e81d>] __lock_acquire+0x2bd/0x3410\n"
)

# syzkaller pkg/report/testdata/linux/report/582, console lines 3-24
SKB_HELPER_BUG = (
    "[   34.372298] kernel BUG at net/core/skbuff.c:104!\n"
    "[   34.377065] invalid opcode: 0000 [#1] SMP KASAN\n"
    "[   34.381704] Dumping ftrace buffer:\n"
    "[   34.385210]    (ftrace buffer empty)\n"
    "[   34.388893] Modules linked in:\n"
    "[   34.392058] CPU: 0 PID: 3648 Comm: syzkaller888153 Not tainted 4.15.0-rc8+ #263\n"
    "[   34.399497] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS "
    "Google 01/01/2011\n"
    "[   34.408828] RIP: 0010:skb_panic+0x162/0x1f0\n"
    "[   34.413116] RSP: 0018:ffff8801bc95f840 EFLAGS: 00010282\n"
    "[   34.418448] RAX: 0000000000000084 RBX: ffff8801d4c40800 RCX: 0000000000000000\n"
    "[   34.425688] RDX: 0000000000000084 RSI: 1ffff1003792bec8 RDI: ffffed003792befc\n"
    "[   34.432930] RBP: ffff8801bc95f8a8 R08: 1ffff1003792be8a R09: 0000000000000000\n"
    "[   34.440167] R10: 0000000000000008 R11: 0000000000000000 R12: ffffffff861f8fe0\n"
    "[   34.447407] R13: ffffffff84a31e3d R14: 0000000000000018 R15: ffff8801d31ae0c0\n"
    "[   34.454650] FS:  000000000251d880(0000) GS:ffff8801db200000(0000) knlGS:000000000000"
    "0000\n"
    "[   34.462842] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"
    "[   34.468694] CR2: 0000000020fa3000 CR3: 00000001d94ef006 CR4: 00000000001606f0\n"
    "[   34.475937] DR0: 0000000000000000 DR1: 0000000000000000 DR2: 0000000000000000\n"
    "[   34.483177] DR3: 0000000000000000 DR6: 00000000fffe0ff0 DR7: 0000000000000400\n"
    "[   34.490414] Call Trace:\n"
    "[   34.501306]  skb_push+0xce/0xf0\n"
    "[   34.504562]  ipgre_header+0x6d/0x4e0\n"
)

# syzkaller pkg/report/testdata/linux/report/322, console lines 1-16
STACK_PROTECTOR_ADDRESS = (
    "[  122.900948] Kernel panic - not syncing: stack-protector: Kernel stack is corrupted i"
    "n: ffffffff8343632e\n"
    "[  122.900948] \n"
    "[  122.911966] CPU: 1 PID: 7987 Comm: syz-executor1 Not tainted 4.4.153-g5e24b4e #90\n"
    "[  122.919579] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS "
    "Google 01/01/2011\n"
    "[  122.928927]  0000000000000000 4e89b9f42d2c5391 ffff8801d7e476e0 ffffffff81e162ed\n"
    "[  122.937002]  ffffffff83a44c60 00000000ffffffff ffff8801ca3dbe80 ffff8801d7e47a20\n"
    "[  122.945072]  0000000000000000 ffff8801d7e477a0 ffffffff8140d474 0000000041b58ab3\n"
    "[  122.953181] Call Trace:\n"
    "[  122.955761]  [<ffffffff81e162ed>] dump_stack+0xc1/0x124\n"
    "[  122.961127]  [<ffffffff8140d474>] panic+0x19e/0x38d\n"
    "[  122.966141]  [<ffffffff8140d2d6>] ? add_taint.cold.4+0x16/0x16\n"
    "[  122.972109]  [<ffffffff830cb730>] ? nf_iterate+0x210/0x210\n"
    "[  122.977740]  [<ffffffff8343632e>] ? ip6_xmit+0x18ae/0x1a00\n"
    "[  122.983367]  [<ffffffff8343632e>] ? ip6_xmit+0x18ae/0x1a00\n"
    "[  122.988991]  [<ffffffff81132bc2>] __stack_chk_fail+0x22/0x30\n"
    "[  122.994784]  [<ffffffff8343632e>] ip6_xmit+0x18ae/0x1a00\n"
)

# syzkaller pkg/report/testdata/linux/report/622, console lines 3-21
SE_SYS_PREFIX = (
    "[   54.847066][ T6519] WARNING: CPU: 1 PID: 6519 at lib/refcount.c:25 refcount_warn_sat"
    "urate+0x13d/0x1a0\n"
    "[   54.856557][ T6519] Modules linked in:\n"
    "[   54.860452][ T6519] CPU: 1 PID: 6519 Comm: syz-executor570 Not tainted 5.15.0-rc6-sy"
    "zkaller #0\n"
    "[   54.869354][ T6519] Hardware name: Google Google Compute Engine/Google Compute Engin"
    "e, BIOS Google 01/01/2011\n"
    "[   54.879537][ T6519] RIP: 0010:refcount_warn_saturate+0x13d/0x1a0\n"
    "[   54.885812][ T6519] Code: c7 80 e1 b3 8a 31 c0 e8 31 8e 3b fd 0f 0b eb a3 e8 b8 79 7"
    "1 fd c6 05 43 86 b6 09 01 48 c7 c7 e0 e1 b3 8a 31 c0 e8 13 8e 3b fd <0f> 0b eb 85 e8 9a"
    " 79 71 fd c6 05 26 86 b6 09 01 48 c7 c7 40 e2 b3\n"
    "[   54.905519][ T6519] RSP: 0018:ffffc900014dfed0 EFLAGS: 00010246\n"
    "[   54.911623][ T6519] RAX: f1edd9615e736100 RBX: 0000000000000002 RCX: ffff88801a6f1c80\n"
    "[   54.919693][ T6519] RDX: 0000000000000000 RSI: 0000000080000000 RDI: 0000000000000000\n"
    "[   54.927759][ T6519] RBP: 0000000000000002 R08: ffffffff81695fe2 R09: ffffed10173a57a8\n"
    "[   54.935856][ T6519] R10: ffffed10173a57a8 R11: 0000000000000000 R12: ffff8880258c9900\n"
    "[   54.943926][ T6519] R13: ffff888071dbedc0 R14: 0000000000000003 R15: dffffc0000000000\n"
    "[   54.951923][ T6519] FS:  0000555556b16300(0000) GS:ffff8880b9d00000(0000) knlGS:0000"
    "000000000000\n"
    "[   54.960942][ T6519] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"
    "[   54.967656][ T6519] CR2: 00007f0a2b914330 CR3: 0000000073408000 CR4: 00000000003506e0\n"
    "[   54.976027][ T6519] DR0: 0000000000000000 DR1: 0000000000000000 DR2: 0000000000000000\n"
    "[   54.984096][ T6519] DR3: 0000000000000000 DR6: 00000000fffe0ff0 DR7: 0000000000000400\n"
    "[   54.992283][ T6519] Call Trace:\n"
    "[   54.995579][ T6519]  __se_sys_memfd_secret+0x2ea/0x350\n"
)

# syzkaller pkg/report/testdata/linux/report/642, console lines 1-15
PREEMPTION_DISABLED_AT = (
    "[ 2500.529878][T12771] BUG: scheduling while atomic: syz-executor.1/12771/0x00000002\n"
    "[ 2500.537844][T12771] no locks held by syz-executor.1/12771.\n"
    "[ 2500.543497][T12771] Modules linked in:\n"
    "[ 2500.547558][T12771] Preemption disabled at:\n"
    "[ 2500.547572][T12771] [<ffffffff812b2934>] kernel_fpu_begin_mask+0x64/0x260\n"
    "[ 2500.558965][T12771] Kernel panic - not syncing: scheduling while atomic\n"
    "[ 2500.565901][T12771] CPU: 0 PID: 12771 Comm: syz-executor.1 Not tainted 5.14.0-rc6-sy"
    "zkaller #0\n"
    "[ 2500.574678][T12771] Hardware name: Google Google Compute Engine/Google Compute Engin"
    "e, BIOS Google 01/01/2011\n"
    "[ 2500.584832][T12771] Call Trace:\n"
    "[ 2500.588127][T12771]  dump_stack_lvl+0xcd/0x134\n"
    "[ 2500.592949][T12771]  panic+0x306/0x73d\n"
    "[ 2500.622673][T12771]  __schedule_bug.cold+0x10c/0x143\n"
    "[ 2500.627802][T12771]  __schedule+0x1a07/0x26f0\n"
    "[ 2500.649224][T12771]  schedule+0xd3/0x270\n"
    "[ 2500.653313][T12771]  exit_to_user_mode_prepare+0x14a/0x290\n"
)

# syzkaller pkg/report/testdata/linux/report/380, console lines 1-12
POWERPC_WARNING = (
    "[   38.771258] WARNING: CPU: 1 PID: 4057 at arch/powerpc/mm/slb.c:79 assert_slb_presenc"
    "e+0x2c/0x70\n"
    "[   38.772382] Kernel panic - not syncing: panic_on_warn set ...\n"
    "[   38.773114] CPU: 1 PID: 4057 Comm: syz-executor.4 Not tainted 5.1.0-rc3-00035-g8ed86"
    "627f715 #7\n"
    "[   38.774151] Call Trace:\n"
    "[   38.774455] [c00000003ae5b800] [c00000000135c19c] dump_stack+0x128/0x1cc (unreliable)\n"
    "[   38.775425] [c00000003ae5b860] [c00000000016ab98] panic+0x1cc/0x534\n"
    "[   38.776168] [c00000003ae5b900] [c00000000016a9cc] panic+0x0/0x534\n"
    "[   38.776919] [c00000003ae5b9a0] [c00000000135a500] report_bug+0x150/0x270\n"
    "[   38.777744] [c00000003ae5ba40] [c0000000000392d4] program_check_exception+0x344/0x4f0\n"
    "[   38.778694] [c00000003ae5bac0] [c0000000000090a4] program_check_common+0x184/0x190\n"
    "[   38.779614] --- interrupt: 700 at assert_slb_presence+0x2c/0x70\n"
    "[   38.779614]     LR = slb_insert_entry+0x19c/0x2d0\n"
)


# syzkaller pkg/report/testdata/linux/report/32, console lines 1-6
OLD_LOCKDEP_PADDED_AT = (
    "[  131.449768] ======================================================\n"
    "[  131.449777] [ INFO: possible circular locking dependency detected ]\n"
    "[  131.449789] 3.10.37+ #1 Not tainted\n"
    "[  131.449797] -------------------------------------------------------\n"
    "[  131.449807] swapper/2/0 is trying to acquire lock:\n"
    "[  131.449859]  (&port_lock_key){-.-...}, at: [<c036a6dc>]     serial8250_console_write"
    "+0x108/0x134\n"
)


# syzkaller pkg/report/testdata/linux/report/15, console lines 1-5
KASAN_HEADER_ONLY = (
    "[ 1722.511384] ==================================================================\n"
    "[ 1722.511384] BUG: KASAN: slab-out-of-bounds in memcpy+0x1d/0x40 at addr ffff88003a6bd"
    "110\n"
    "[ 1722.511384] Read of size 8 by task a.out/6260\n"
    "[ 1722.511384] BUG: KASAN: slab-out-of-bounds in memcpy+0x1d/0x40 at addr ffff88003a6bd"
    "110\n"
    "[ 1722.511384] Write of size 4 by task a.out/6260\n"
)


# syzkaller pkg/report/testdata/linux/report/0, console lines 1-3
FAULT_IN_HELPER_ONLY = (
    "[  772.918915] BUG: unable to handle kernel paging request at ffff88002bde1e40\n"
    "unrelateed line\n"
    "[  772.919010] IP: [<ffffffff82d4e304>] __memset+0x24/0x30\n"
)


# syzkaller pkg/report/testdata/linux/report/377, console lines 1-54
KASAN_IN_PRINTK_HELPERS = (
    "[   59.694766][   T12] ==================================================================\n"
    "[   59.694770][   T12] BUG: KASAN: slab-out-of-bounds in hex_string+0x418/0x4b0\n"
    "[   59.694773][   T12] Read of size 1 at addr ffff88821a41bd38 by task kworker/0:1/12\n"
    "[   59.694774][   T12]\n"
    "[   59.694778][   T12] CPU: 0 PID: 12 Comm: kworker/0:1 Not tainted 5.1.0-rc3-31900"
    "4-g43151d6 #6\n"
    "[   59.694782][   T12] Hardware name: Google Google Compute Engine/Google Compute"
    " Engine, BIOS Google 01/01/2011\n"
    "[   59.694784][   T12] Workqueue: usb_hub_wq hub_event\n"
    "[   59.694787][   T12] Call Trace:\n"
    "[   59.694788][   T12]  dump_stack+0xe8/0x16e\n"
    "[   59.694790][   T12]  ? hex_string+0x418/0x4b0\n"
    "[   59.694792][   T12]  ? hex_string+0x418/0x4b0\n"
    "[   59.694794][   T12]  print_address_description+0x6c/0x236\n"
    "[   59.694796][   T12]  ? hex_string+0x418/0x4b0\n"
    "[   59.694798][   T12]  ? hex_string+0x418/0x4b0\n"
    "[   59.694800][   T12]  kasan_report.cold+0x1a/0x3c\n"
    "[   59.694802][   T12]  ? hex_string+0x418/0x4b0\n"
    "[   59.694803][   T12]  hex_string+0x418/0x4b0\n"
    "[   59.694805][   T12]  ? string+0x220/0x220\n"
    "[   59.694807][   T12]  ? number+0x82a/0xb00\n"
    "[   59.694808][   T12]  pointer+0x460/0x910\n"
    "[   59.694810][   T12]  ? address_val+0x80/0x80\n"
    "[   59.694812][   T12]  ? enable_ptr_key_workfn+0x30/0x30\n"
    "[   59.694814][   T12]  vsnprintf+0x5a0/0x16b0\n"
    "[   59.694815][   T12]  ? pointer+0x910/0x910\n"
    "[   59.694817][   T12]  ? ftrace_graph_ret_addr+0x104/0x170\n"
    "[   59.694819][   T12]  ? set_precision+0x170/0x170\n"
    "[   59.694821][   T12]  pointer+0x60b/0x910\n"
    "[   59.694823][   T12]  ? address_val+0x80/0x80\n"
    "[   59.694824][   T12]  vsnprintf+0x5a0/0x16b0\n"
    "[   59.694826][   T12]  ? pointer+0x910/0x910\n"
    "[   59.694828][   T12]  vscnprintf+0x29/0x80\n"
    "[   59.694829][   T12]  vprintk_store+0x45/0x4b0\n"
    "[   59.694831][   T12]  vprintk_emit+0x210/0x5a0\n"
    "[   59.694833][   T12]  ? dlfb_usb_probe+0x26f/0x450\n"
    "[   59.694835][   T12]  dev_vprintk_emit+0x50e/0x553\n"
    "[   59.694837][   T12]  ? dev_attr_show.cold+0x3a/0x3a\n"
    "[   59.694839][   T12]  ? hub_event+0x138e/0x3b00\n"
    "[   59.694841][   T12]  ? do_raw_spin_lock+0x11f/0x290\n"
    "[   59.694843][   T12]  ? mark_held_locks+0x9f/0xe0\n"
    "[   59.694845][   T12]  ? lockdep_hardirqs_on+0x37e/0x580\n"
    "[   59.694847][   T12]  dev_printk_emit+0xbf/0xf6\n"
    "[   59.694849][   T12]  ? dev_vprintk_emit+0x553/0x553\n"
    "[   59.694851][   T12]  ? __kasan_slab_free+0x145/0x180\n"
    "[   59.694853][   T12]  ? slab_free_freelist_hook+0x5e/0x140\n"
    "[   59.694855][   T12]  ? usb_control_msg+0x398/0x4a0\n"
    "[   59.694857][   T12]  __dev_printk+0x1ed/0x215\n"
    "[   59.694858][   T12]  _dev_info+0xdc/0x10e\n"
    "[   59.694860][   T12]  ? _dev_notice+0x10e/0x10e\n"
    "[   59.694862][   T12]  ? usb_get_descriptor+0xd2/0x1c0\n"
    "[   59.694864][   T12]  ? usb_get_descriptor+0x142/0x1c0\n"
    "[   59.694866][   T12]  ? __usb_get_extra_descriptor+0x162/0x1a0\n"
    "[   59.694868][   T12]  dlfb_usb_probe.cold+0xb96/0x1701\n"
)


# syzkaller pkg/report/testdata/linux/report/40, console lines 1-14
OLD_UBSAN_UNDEFINED = (
    "[    4.556968] ========================================================================"
    "========\n"
    "[    4.556972] UBSAN: Undefined behaviour in drivers/usb/core/devio.c:1517:25\n"
    "[    4.556975] shift exponent -1 is negative\n"
    "[    4.556979] CPU: 2 PID: 3624 Comm: usb Not tainted 4.5.0-rc1 #252\n"
    "[    4.556981] Hardware name: Apple Inc. MacBookPro10,2/Mac-AFD8A9D944EA4843, BIOS MBP1"
    "02.88Z.0106.B0A.1509130955 09/13/2015\n"
    "[    4.556984]  0000000000000000 0000000000000000 ffffffff845c6528 ffff8802493b3c68\n"
    "[    4.556988]  ffffffff81b2e7d9 0000000000000007 ffff8802493b3c98 ffff8802493b3c80\n"
    "[    4.556992]  ffffffff81bcb87d ffffffffffffffff ffff8802493b3d10 ffffffff81bcc1c1\n"
    "[    4.556996] Call Trace:\n"
    "[    4.557004]  [<ffffffff81b2e7d9>] dump_stack+0x45/0x6c\n"
    "[    4.557010]  [<ffffffff81bcb87d>] ubsan_epilogue+0xd/0x40\n"
    "[    4.557015]  [<ffffffff81bcc1c1>] __ubsan_handle_shift_out_of_bounds+0xf1/0x140\n"
    "[    4.557030]  [<ffffffff822247af>] ? proc_do_submiturb+0x9af/0x2c30\n"
    "[    4.557034]  [<ffffffff82226794>] proc_do_submiturb+0x2994/0x2c30\n"
)


# syzkaller pkg/report/testdata/linux/report/80, console lines 1-1
UNWINDER_BAD_BP = (
    "[  163.314570] WARNING: kernel stack regs at ffff8801d100fea8 in syz-executor1:16059 ha"
    "s bad 'bp' value ffff8801d100ff28\n"
)


# syzkaller pkg/report/testdata/linux/report/85, console lines 1-3
BAD_PAGE_MAP = (
    "[   40.438790] BUG: Bad page map in process syz-executor6  pte:ffff8801a700ff00 pmd:1a7"
    "00f067\n"
    "[   40.447217] addr:00000000009ca000 vm_flags:00100073 anon_vma:ffff8801d16f20e0 mappin"
    "g:          (null) index:9ca\n"
    "[   40.457560] file:          (null) fault:          (null) mmap:          (null) readp"
    "age:          (null)\n"
)


# syzkaller pkg/report/testdata/linux/report/90, console lines 1-4
N_TTY_PANIC = (
    "[ 1722.511384] Kernel panic - not syncing: Couldn't open N_TTY ldisc for ptm1 --- error"
    " -12.\n"
    "[ 1722.511384] CPU: 1 PID: 14836 Comm: syz-executor5 Not tainted 4.12.0-rc4+ #15\n"
    "[ 1722.511384] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS Bochs 01/01/"
    "2011\n"
    "[ 1722.511384] Call Trace:\n"
)


# syzkaller pkg/report/testdata/linux/report/500, console lines 14-42
WARNING_CUT_AFTER_REGISTERS = (
    "[   30.492495][   T81] ------------[ cut here ]------------\n"
    "[   30.497980][   T81] usb 1-1: BOGUS urb xfer, pipe 1 != type 3\n"
    "[   30.504146][   T81] WARNING: CPU: 1 PID: 81 at drivers/usb/core/urb.c:478 usb_submit"
    "_urb+0x1188/0x1460\n"
    "[   30.515546][   T81] Kernel panic - not syncing: panic_on_warn set ...\n"
    "[   30.522138][   T81] CPU: 1 PID: 81 Comm: kworker/1:1 Not tainted 5.6.0-rc3-syzkaller"
    " #0\n"
    "[   30.530285][   T81] Hardware name: Google Google Compute Engine/Google Compute Engin"
    "e, BIOS Google 01/01/2011\n"
    "[   30.540419][   T81] Workqueue: usb_hub_wq hub_event\n"
    "[   30.545447][   T81] Call Trace:\n"
    "[   30.548741][   T81]  dump_stack+0xef/0x16e\n"
    "[   30.552986][   T81]  ? usb_submit_urb+0x1090/0x1460\n"
    "[   30.558010][   T81]  panic+0x2aa/0x6e1\n"
    "[   30.561902][   T81]  ? add_taint.cold+0x16/0x16\n"
    "[   30.566630][   T81]  ? __probe_kernel_read+0x188/0x1d0\n"
    "[   30.571909][   T81]  ? __warn.cold+0x14/0x30\n"
    "[   30.576356][   T81]  ? __warn+0xd5/0x1c8\n"
    "[   30.580430][   T81]  ? usb_submit_urb+0x1188/0x1460\n"
    "[   30.585489][   T81]  __warn.cold+0x2f/0x30\n"
    "[   30.589981][   T81]  ? usb_submit_urb+0x1188/0x1460\n"
    "[   30.595057][   T81]  report_bug+0x27b/0x2f0\n"
    "[   30.599377][   T81]  do_error_trap+0x12b/0x1e0\n"
    "[   30.603968][   T81]  ? usb_submit_urb+0x1188/0x1460\n"
    "[   30.608999][   T81]  do_invalid_op+0x32/0x40\n"
    "[   30.613460][   T81]  ? usb_submit_urb+0x1188/0x1460\n"
    "[   30.618485][   T81]  invalid_op+0x23/0x30\n"
    "[   30.622635][   T81] RIP: 0010:usb_submit_urb+0x1188/0x1460\n"
    "[   30.628261][   T81] Code: 4d 85 ed 74 46 e8 18 ce dd fd 4c 89 f7 e8 d0 5c 17 ff 41 8"
    "9 d8 44 89 e1 4c 89 ea 48 89 c6 48 c7 c7 e0 e7 3b 86 e8 a0 5f b2 fd <0f> 0b e9 20 f4 ff"
    " ff e8 ec cd dd fd 0f 1f 44 00 00 e8 e2 cd dd fd\n"
    "[   30.647861][   T81] RSP: 0018:ffff8881d8a0f0b8 EFLAGS: 00010282\n"
    "[   30.653924][   T81] RAX: 0000000000000000 RBX: 0000000000000003 RCX: 0000000000000000\n"
    "[\n"
)


# syzkaller pkg/report/testdata/linux/report/467, console lines 1-23
CIRCULAR_VIA_WORKQUEUE = (
    "[ 1319.864586][   T43] ======================================================\n"
    "[ 1319.865875][   T43] WARNING: possible circular locking dependency detected\n"
    "[ 1319.870353][   T43] 5.5.0-rc7-next-20200124+ #10 Not tainted\n"
    "[ 1319.872392][   T43] ------------------------------------------------------\n"
    "[ 1319.874831][ T5878] netlink: 44 bytes leftover after parsing attributes in process "
    "`syz-executor.0'.\n"
    "[ 1319.875308][   T43] kworker/u8:2/43 is trying to acquire lock:\n"
    "[ 1319.879142][   T43] ffffc9000027fdf0 ((work_completion)(&peer->transmit_handshake_w"
    "ork)){+.+.}, at: process_one_work+0x8c0/0x17b0\n"
    "[ 1319.886943][   T43] \n"
    "[ 1319.886943][   T43] but task is already holding lock:\n"
    "[ 1319.889733][   T43] ffff8880649b0d28 ((wq_completion)wg-kex-wireguard1#8){+.+.}, at"
    ": process_one_work+0x88b/0x17b0\n"
    "[ 1319.895722][   T43] \n"
    "[ 1319.895722][   T43] which lock already depends on the new lock.\n"
    "[ 1319.895722][   T43] \n"
    "[ 1319.898798][   T43] \n"
    "[ 1319.898798][   T43] the existing dependency chain (in reverse order) is:\n"
    "[ 1319.919496][   T43] \n"
    "[ 1319.919496][   T43] -> #2 ((wq_completion)wg-kex-wireguard1#8){+.+.}:\n"
    "[ 1319.921136][   T43]        flush_workqueue+0x115/0x1520\n"
    "[ 1319.922126][   T43]        peer_remove_after_dead+0x16a/0x230\n"
    "[ 1319.923180][   T43]        wg_peer_remove+0x23f/0x340\n"
    "[ 1319.924722][   T43]        wg_set_device+0x10a4/0x1490\n"
    "[ 1319.925662][   T43]        genl_rcv_msg+0xb55/0xf00\n"
    "[ 1319.926517][   T43]        netlink_rcv_skb+0x172/0x460\n"
)


# syzkaller pkg/report/testdata/linux/report/117, console lines 1-20
UNLOCK_IMBALANCE_IP_LINE = (
    "[  163.443279] =====================================\n"
    "[  163.448095] WARNING: bad unlock balance detected!\n"
    "[  163.452916] 4.15.0-rc3+ #217 Not tainted\n"
    "[  163.456956] -------------------------------------\n"
    "[  163.461783] syz-executor3/19522 is trying to release lock (mrt_lock) at:\n"
    "[  163.468622] [<00000000adc671f1>] ipmr_mfc_seq_stop+0xe1/0x130\n"
    "[  163.474487] but there are no more locks to release!\n"
    "[  163.479485] \n"
    "[  163.479485] other info that might help us debug this:\n"
    "[  163.486133] 2 locks held by syz-executor3/19522:\n"
    "[  163.490861]  #0:  (&f->f_pos_lock){+.+.}, at: [<00000000cd36f0f9>] __fdget_pos+0x13"
    "1/0x1a0\n"
    "[  163.499256]  #1:  (&p->lock){+.+.}, at: [<00000000c93d2595>] seq_lseek+0x58/0x3c0\n"
    "[  163.506866] \n"
    "[  163.506866] stack backtrace:\n"
    "[  163.511343] CPU: 0 PID: 19522 Comm: syz-executor3 Not tainted 4.15.0-rc3+ #217\n"
    "[  163.518677] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS"
    " Google 01/01/2011\n"
    "[  163.528007] Call Trace:\n"
    "[  163.530573]  dump_stack+0x194/0x257\n"
    "[  163.534176]  ? arch_local_irq_restore+0x53/0x53\n"
    "[  163.538823]  ? ipmr_mfc_seq_stop+0xe1/0x130\n"
)


# syzkaller pkg/report/testdata/linux/report/507, console lines 1-15
HUNG_IN_SRCU = (
    "[ 2294.175185] INFO: task kworker/u4:0:437 blocked for more than 140 seconds.\n"
    "[ 2294.182313]       Not tainted 4.15.0-syzkaller #0\n"
    '[ 2294.187243] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this mess'
    "age.\n"
    "[ 2294.195269] kworker/u4:0    D    0   437      2 0x90000000 2136304260817\n"
    "[ 2294.202156] Workqueue: events_unbound fsnotify_mark_destroy_workfn\n"
    "[ 2294.208499] Call Trace:\n"
    "[ 2294.217134]  [<ffffffff810008f9>] __schedule+0x589/0x1ce0\n"
    "[ 2294.228660]  [<ffffffff810020da>] schedule+0x8a/0x1b0\n"
    "[ 2294.233857]  [<ffffffff810109b8>] schedule_timeout+0x6e8/0xb20\n"
    "[ 2294.269977]  [<ffffffff8100557a>] wait_for_completion+0x26a/0x3c0\n"
    "[ 2294.295740]  [<ffffffff815ef967>] __synchronize_srcu+0x197/0x250\n"
    "[ 2294.314599]  [<ffffffff81c18e9d>] fsnotify_mark_destroy_workfn+0xfd/0x330\n"
    "[ 2294.334748]  [<ffffffff8145beed>] process_one_work+0x8dd/0x14a0\n"
    "[ 2294.347346]  [<ffffffff8145d0a8>] worker_thread+0x5f8/0x1090\n"
    "[ 2294.359511]  [<ffffffff814738cc>] kthread+0x33c/0x410\n"
)


# syzkaller pkg/report/testdata/linux/report/62, console lines 1-1
RCU_STALL_HEADER_ONLY = "[  152.002376] INFO: rcu_bh detected stalls on CPUs/tasks:\n"


# syzkaller pkg/report/testdata/linux/report/87, console lines 1-4
DENTRY_STILL_IN_USE = (
    "[ 1722.511384] Buffer I/O error on dev loop0, logical block 6, async page read\n"
    "[ 1722.511384] BUG: Dentry ffff880175978600{i=8bb9,n=lo}  still in use (1) [unmount of"
    " proc proc]\n"
    "[ 1722.511384] ------------[ cut here ]------------\n"
    "[ 1722.511384] WARNING: CPU: 1 PID: 8922 at fs/dcache.c:1445 umount_check+0x246/0x2c0 "
    "fs/dcache.c:1436\n"
)


# syzkaller pkg/report/testdata/linux/report/536, console lines 1 and 16-52 (lines 2-15, the
# abort details and another task's lines, and 26-40, the x29..x0 registers, left out)
ARM64_UNABLE_TO_HANDLE = (
    "[ 1418.056449][ T6604] Unable to handle kernel paging request at virtual address"
    " dfffa00000000003\n"
    "[ 1418.095159][ T6604]   CM = 0, WnR = 0\n"
    "[ 1418.095945][ T6604] [dfffa00000000003] address between user and kernel address ranges\n"
    "[ 1418.097299][ T6604] Internal error: Oops: 96000004 [#1] PREEMPT SMP\n"
    "[ 1418.098357][ T6604] Modules linked in:\n"
    "[ 1418.099914][ T6604] CPU: 0 PID: 6604 Comm: vhci_tx Not tainted 5.9.0-12994-gf9893351acae"
    " #16\n"
    "[ 1418.100971][ T6604] Hardware name: linux,dummy-virt (DT)\n"
    "[ 1418.102283][ T6604] pstate: 80000005 (Nzcv daif -PAN -UAO -TCO BTYPE=--)\n"
    "[ 1418.103355][ T6604] pc : selinux_socket_sendmsg+0x28/0x58\n"
    "[ 1418.104161][ T6604] lr : selinux_socket_sendmsg+0x18/0x58\n"
    "[ 1418.104870][ T6604] sp : ffff000049b6fa10\n"
    "[ 1418.128340][ T6604] Call trace:\n"
    "[ 1418.129242][ T6604]  selinux_socket_sendmsg+0x28/0x58\n"
    "[ 1418.132314][ T6604]  security_socket_sendmsg+0x68/0xd0\n"
    "[ 1418.133085][ T6604]  sock_sendmsg+0x4c/0x128\n"
    "[ 1418.133754][ T6604]  kernel_sendmsg+0x54/0x70\n"
    "[ 1418.134448][ T6604]  vhci_send_cmd_submit+0x6c8/0xda8\n"
    "[ 1418.135141][ T6604]  vhci_tx_loop+0xe8/0x300\n"
    "[ 1418.135800][ T6604]  kthread+0x344/0x3e0\n"
    "[ 1418.136434][ T6604]  ret_from_fork+0x10/0x30\n"
    "[ 1418.138100][ T6604] Code: 91006260 d2d40001 f2fbffe1 d343fc02 (38e16841) \n"
    "[ 1418.139739][ T6604] ---[ end trace bfc0c3bff103ed46 ]---\n"
)

# syzkaller pkg/report/testdata/linux/report/541, console lines 4-11 and 28-42 (the x29..x0
# registers left out)
ARM64_INTERNAL_ERROR = (
    "[    4.496451][    T1] Internal error: synchronous external abort: 96000050 [#1] PREEMPT SMP\n"
    "[    4.497227][    T1] Modules linked in:\n"
    "[    4.498230][    T1] CPU: 1 PID: 1 Comm: swapper/0 Not tainted 5.10.2 #24\n"
    "[    4.498610][    T1] Hardware name: linux,dummy-virt (DT)\n"
    "[    4.499302][    T1] pstate: 10000005 (nzcV daif -PAN -UAO -TCO BTYPE=--)\n"
    "[    4.499760][    T1] pc : clear_page+0x14/0x28\n"
    "[    4.500225][    T1] lr : kernel_init_free_pages+0x7c/0x190\n"
    "[    4.500580][    T1] sp : ffff0001001ff600\n"
    "[    4.509645][    T1]  clear_page+0x14/0x28\n"
    "[    4.510010][    T1]  prep_new_page+0x11c/0x250\n"
    "[    4.510368][    T1]  get_page_from_freelist+0x2604/0x31b0\n"
    "[    4.510909][    T1]  __alloc_pages_nodemask+0x2a4/0x269c\n"
    "[    4.511347][    T1]  alloc_page_interleave+0x38/0x20c\n"
    "[    4.511743][    T1]  alloc_pages_current+0x2d0/0x364\n"
    "[    4.512105][    T1]  atomic_pool_expand+0x3d0/0x624\n"
    "[    4.512488][    T1]  __dma_atomic_pool_init+0xc4/0x164\n"
    "[    4.512885][    T1]  dma_atomic_pool_init+0x128/0x1e4\n"
    "[    4.513243][    T1]  do_one_initcall+0x18c/0xce0\n"
    "[    4.513604][    T1]  kernel_init_freeable+0x868/0x8f4\n"
    "[    4.513974][    T1]  kernel_init+0x1c/0x210\n"
    "[    4.514319][    T1]  ret_from_fork+0x10/0x34\n"
    "[    4.515141][    T1] Code: d53b00e1 12000c21 d2800082 9ac12041 (d50b7420) \n"
    "[    4.516455][    T1] ---[ end trace 1a4edb2d835d8567 ]---\n"
)

# syzkaller pkg/report/testdata/linux/report/551, console lines 1-12 and 37-43 (registers and
# the raw stack dump left out)
ARM_UNHANDLED_FAULT = (
    "8<--- cut here ---\n"
    "Unhandled fault: page domain fault (0x01b) at 0x00000008\n"
    "pgd = 4c5c9ce0\n"
    "[00000008] *pgd=9671f835, *pte=00000000, *ppte=00000000\n"
    "Internal error: : 1b [#1] SMP ARM\n"
    "Dumping ftrace buffer:\n"
    "   (ftrace buffer empty)\n"
    "Modules linked in:\n"
    "CPU: 0 PID: 24993 Comm: syz-executor.0 Not tainted 5.10.2 #10\n"
    "Hardware name: ARM-Versatile Express\n"
    "PC is at jffs2_parse_param+0xa8/0x18c\n"
    "LR is at jffs2_parse_param+0x98/0x18c\n"
    "[<8037e608>] (vfs_parse_fs_param) from [<8037e7dc>] (vfs_parse_fs_string+0x90/0xd4)\n"
    "[<8037e7dc>] (vfs_parse_fs_string) from [<8037e8e0>] (generic_parse_monolithic+0xc0/0x114)\n"
    "[<8037e8e0>] (generic_parse_monolithic) from [<80360ff0>] (path_mount+0xb10/0x10c0)\n"
    "[<80360ff0>] (path_mount) from [<80361cc8>] (sys_mount+0x21c/0x36c)\n"
    "[<80361cc8>] (sys_mount) from [<80100260>] (__sys_trace_return+0x0/0x20)\n"
    "Exception stack(0x94771fa8 to 0x94771ff0)\n"
    "1fa0:                   75e869c0 20000000 00000000 20000000 200009c0 00800000\n"
)

# syzkaller pkg/report/testdata/linux/report/531, console lines 1-30
ARM64_INVALID_WAIT_CONTEXT = (
    "[  483.562491][ T4115] =============================\n"
    "[  483.563138][ T4115] [ BUG: Invalid wait context ]\n"
    "[  483.563925][ T4115] 5.9.0-12994-gf9893351acae #15 Not tainted\n"
    "[  483.564520][ T4115] -----------------------------\n"
    "[  483.565141][ T4115] dhcpcd/4115 is trying to lock:\n"
    "[  483.566013][ T4115] ffff000041e68118 (&mm->mmap_lock){++++}-{3:3}, at:"
    " __might_fault+0x108/0x1b0\n"
    "[  483.568509][ T4115] other info that might help us debug this:\n"
    "[  483.569246][ T4115] context-{4:4}\n"
    "[  483.569886][ T4115] 1 lock held by dhcpcd/4115:\n"
    "[  483.570483][ T4115]  #0: ffffa00019769560 (rcu_read_lock){....}-{1:2}, at:"
    " count_memcg_event_mm+0x24/0x2f0\n"
    "[  483.572502][ T4115] stack backtrace:\n"
    "[  483.573642][ T4115] CPU: 0 PID: 4115 Comm: dhcpcd Not tainted 5.9.0-12994-gf9893351acae"
    " #15\n"
    "[  483.574478][ T4115] Hardware name: linux,dummy-virt (DT)\n"
    "[  483.575747][ T4115] Call trace:\n"
    "[  483.576425][ T4115]  dump_backtrace+0x0/0x4d0\n"
    "[  483.577101][ T4115]  show_stack+0x2c/0x80\n"
    "[  483.577800][ T4115]  dump_stack+0x1b0/0x254\n"
    "[  483.578478][ T4115]  __lock_acquire+0x1a04/0x4930\n"
    "[  483.579234][ T4115]  lock_acquire+0x278/0xb88\n"
    "[  483.579965][ T4115]  __might_fault+0x138/0x1b0\n"
    "[  483.580648][ T4115]  kernel_wait4+0x174/0x368\n"
    "[  483.581356][ T4115]  __do_sys_wait4+0x210/0x2b8\n"
    "[  483.582036][ T4115]  __arm64_sys_wait4+0x8c/0xd0\n"
    "[  483.582872][ T4115]  el0_svc_common.constprop.0+0x158/0x530\n"
    "[  483.583669][ T4115]  do_el0_svc+0x58/0x148\n"
    "[  483.584310][ T4115]  el0_sync_handler+0x1f4/0x200\n"
    "[  483.584953][ T4115]  el0_sync+0x174/0x180\n"
    "\n"
)

# syzkaller pkg/report/testdata/linux/report/242, console lines 1-9 and 19-33 (the registers
# left out)
ARM_ALIGNMENT_TRAP = (
    "Alignment trap: not handling instruction e1932f9f at [<8028bd58>]\n"
    "Unhandled fault: alignment exception (0x001) at 0x000008ad\n"
    "pgd = 522df9df\n"
    "[000008ad] *pgd=8c7d2835, *pte=00000000, *ppte=00000000\n"
    "Internal error: : 1 [#1] SMP ARM\n"
    "Modules linked in:\n"
    "CPU: 0 PID: 3797 Comm: syz-executor1 Not tainted 4.17.0-rc1+ #11\n"
    "Hardware name: ARM-Versatile Express\n"
    "PC is at dup_fd+0x154/0x39c\n"
    "Stack: (0x9ec4fea0 to 0x9ec50000)\n"
    "fea0: 9eaea800 9f6a3800 9ec4fecc 9f542e00 00000000 00000000 9f5431b0 80f4bc08\n"
    "fec0: ffffe000 9f6a3700 00000000 80132060 00001053 00000000 00000000 00000000\n"
    "fee0: 20000000 00000000 00000000 9f5430d8 20d2d000 20d2d000 8d53e380 80234dc8\n"
    "ff00: 0002092d 00000001 000003db 00000001 00000000 00400000 fffffff4 8d53e3b8\n"
    "ff20: 2092d000 00000000 20000000 20000ffc 00000000 00000000 00000000 00000000\n"
    "ff40: 0000004f 801334b4 00000000 00000000 ffffffff 000b0028 00000000 00000000\n"
    "ff60: 00000000 801a8c74 20000000 20000ffc 00000000 20000000 20000ffc 9ec4e000\n"
    "ff80: 00000000 80133938 20000000 20000ffc 20000000 00000000 00000000 00000078\n"
    "ffa0: 801011e4 80101000 20000000 00000000 00000000 20000000 20000ffc 20000ffc\n"
    "ffc0: 20000000 00000000 00000000 00000078 75fe87e4 00061b14 0000009e 0000004f\n"
    "ffe0: 75fe7b10 75fe7b00 00013291 000358c2 60030030 00000000 9fffd861 9fffdc61\n"
    "[<8028bd5c>] (dup_fd) from [<80132060>] (copy_process.part.3+0x58c/0x1844)\n"
    "[<80132060>] (copy_process.part.3) from [<801334b4>] (_do_fork+0xcc/0x428)\n"
    "[<801334b4>] (_do_fork) from [<80133938>] (sys_clone+0x38/0x40)\n"
)
ARM_ALIGNMENT_TRAP = (
    "Alignment trap: not handling instruction e1932f9f at [<8028bd58>]\n"
    "Unhandled fault: alignment exception (0x001) at 0x000008ad\n"
    "pgd = 522df9df\n"
    "[000008ad] *pgd=8c7d2835, *pte=00000000, *ppte=00000000\n"
    "Internal error: : 1 [#1] SMP ARM\n"
    "Modules linked in:\n"
    "CPU: 0 PID: 3797 Comm: syz-executor1 Not tainted 4.17.0-rc1+ #11\n"
    "Hardware name: ARM-Versatile Express\n"
    "PC is at dup_fd+0x154/0x39c\n"
    "ffe0: 75fe7b10 75fe7b00 00013291 000358c2 60030030 00000000 9fffd861 9fffdc61\n"
    "[<8028bd5c>] (dup_fd) from [<80132060>] (copy_process.part.3+0x58c/0x1844)\n"
    "[<80132060>] (copy_process.part.3) from [<801334b4>] (_do_fork+0xcc/0x428)\n"
    "[<801334b4>] (_do_fork) from [<80133938>] (sys_clone+0x38/0x40)\n"
)

# syzkaller pkg/report/testdata/linux/report/606, console lines 1-7 and 20-33 (registers left out)
WARN_BOGUS_IRQ_RESTORE = (
    "[   60.014572][ T4392] ------------[ cut here ]------------\n"
    "[   60.020342][ T4392] raw_local_irq_restore() called with IRQs enabled\n"
    "[   60.026914][ T4392] WARNING: CPU: 0 PID: 4392 at kernel/locking/irqflag-debug.c:10"
    " warn_bogus_irq_restore+0x1d/0x20\n"
    "[   60.037614][ T4392] Modules linked in:\n"
    "[   60.041588][ T4392] CPU: 0 PID: 4392 Comm: syz-fuzzer Not tainted 5.12.0-rc1-syzkaller #0\n"
    "[   60.051482][ T4392] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 01/01/2011\n"
    "[   60.061979][ T4392] RIP: 0010:warn_bogus_irq_restore+0x1d/0x20\n"
    "[   60.177878][ T4392] Call Trace:\n"
    "[   60.181242][ T4392]  kvm_wait+0xc9/0xe0\n"
    "[   60.185852][ T4392]  __pv_queued_spin_lock_slowpath+0x86f/0xad0\n"
    "[   60.206190][ T4392]  do_raw_spin_lock+0x200/0x2b0\n"
    "[   60.216092][ T4392]  lock_sock_nested+0x40/0x120\n"
    "[   60.220920][ T4392]  tcp_sendmsg+0x1d/0x40\n"
    "[   60.225192][ T4392]  inet_sendmsg+0x99/0xe0\n"
    "[   60.234903][ T4392]  sock_sendmsg+0xcf/0x120\n"
    "[   60.248003][ T4392]  sock_write_iter+0x289/0x3c0\n"
    "[   60.277315][ T4392]  new_sync_write+0x426/0x650\n"
    "[   60.325576][ T4392]  vfs_write+0x743/0x9e0\n"
    "[   60.330185][ T4392]  ksys_write+0x1ee/0x250\n"
    "[   60.352307][ T4392]  do_syscall_64+0x2d/0x40\n"
    "[   60.356951][ T4392]  entry_SYSCALL_64_after_hwframe+0x44/0xae\n"
)

# syzkaller pkg/report/testdata/linux/report/209, console lines 1, 3-9 and 11-45 (lines 2
# and 10, audit messages, left out)
KVMALLOC_WARNING = (
    "[   29.689945] WARNING: CPU: 1 PID: 4183 at mm/util.c:403 kvmalloc_node+0xc3/0xd0\n"
    "[   29.718063] Kernel panic - not syncing: panic_on_warn set ...\n"
    "[   29.718063] \n"
    "[   29.718072] CPU: 1 PID: 4183 Comm: syzkaller238030 Not tainted 4.16.0-rc1+ #12\n"
    "[   29.718076] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google"
    " 01/01/2011\n"
    "[   29.718080] Call Trace:\n"
    "[   29.718093]  dump_stack+0x194/0x257\n"
    "[   29.718107]  ? arch_local_irq_restore+0x53/0x53\n"
    "[   29.747976]  ? vsnprintf+0x1ed/0x1900\n"
    "[   29.747993]  panic+0x1e4/0x41c\n"
    "[   29.805634]  ? refcount_error_report+0x214/0x214\n"
    "[   29.810387]  ? show_regs_print_info+0x18/0x18\n"
    "[   29.814873]  ? depot_save_stack+0x2ca/0x460\n"
    "[   29.819180]  ? __warn+0x1c1/0x200\n"
    "[   29.822619]  ? kvmalloc_node+0xc3/0xd0\n"
    "[   29.826484]  __warn+0x1dc/0x200\n"
    "[   29.829743]  ? do_syscall_64+0x282/0x940\n"
    "[   29.833777]  ? kvmalloc_node+0xc3/0xd0\n"
    "[   29.837642]  report_bug+0x211/0x2d0\n"
    "[   29.841249]  fixup_bug.part.11+0x37/0x80\n"
    "[   29.845293]  do_error_trap+0x2d7/0x3e0\n"
    "[   29.849167]  ? math_error+0x400/0x400\n"
    "[   29.852940]  ? kmem_cache_alloc_node_trace+0x523/0x760\n"
    "[   29.858194]  ? lock_downgrade+0x980/0x980\n"
    "[   29.862320]  ? lock_release+0xa40/0xa40\n"
    "[   29.866272]  ? trace_hardirqs_off_thunk+0x1a/0x1c\n"
    "[   29.871094]  do_invalid_op+0x1b/0x20\n"
    "[   29.874782]  invalid_op+0x22/0x40\n"
    "[   29.878209] RIP: 0010:kvmalloc_node+0xc3/0xd0\n"
    "[   29.882675] RSP: 0018:ffff8801b436f6e8 EFLAGS: 00010293\n"
    "[   29.888012] RAX: ffff8801b1dd25c0 RBX: 0000000001088220 RCX: ffffffff81970ca3\n"
    "[   29.895258] RDX: 0000000000000000 RSI: 0000000001088220 RDI: 0000000000000070\n"
    "[   29.902504] RBP: ffff8801b436f708 R08: 0000000000000000 R09: 0000000000000000\n"
    "[   29.909745] R10: 0000000000000000 R11: 0000000000000000 R12: 0000000000000070\n"
    "[   29.917007] R13: 0000000000000000 R14: 00000000ffffffff R15: ffff8801d304cd00\n"
    "[   29.924278]  ? kvmalloc_node+0xc3/0xd0\n"
    "[   29.928150]  ? kvmalloc_node+0xc3/0xd0\n"
    "[   29.932015]  cpu_map_update_elem+0x3c3/0x8e0\n"
    "[   29.936406]  ? kasan_check_write+0x14/0x20\n"
    "[   29.940634]  ? cpu_map_kthread_run+0x12e0/0x12e0\n"
    "[   29.945368]  SyS_bpf+0x215f/0x4860\n"
    "[   29.948890]  ? bpf_prog_get+0x20/0x20\n"
    "[   29.952692]  ? debug_check_no_locks_freed+0x3c0/0x3c0\n"
)

# syzkaller pkg/report/testdata/linux/report/686, console lines 2-7 and 20-32 (registers left out)
ZERO_SIZE_VMALLOC = (
    "------------[ cut here ]------------\n"
    "WARNING: CPU: 1 PID: 15973 at mm/vmalloc.c:3108 __vmalloc_node_range+0x1036/0x1300"
    " mm/vmalloc.c:3108\n"
    "Modules linked in:\n"
    "CPU: 1 PID: 15973 Comm: syz-executor.3 Not tainted 6.2.0-rc6-next-20230202-syzkaller #0\n"
    "Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/12/2023\n"
    "RIP: 0010:__vmalloc_node_range+0x1036/0x1300 mm/vmalloc.c:3108\n"
    "Call Trace:\n"
    " <TASK>\n"
    " __vmalloc_node mm/vmalloc.c:3246 [inline]\n"
    " vzalloc+0x6b/0x80 mm/vmalloc.c:3319\n"
    " bpf_check+0x1b8/0xae50 kernel/bpf/verifier.c:17253\n"
    " bpf_prog_load+0x16d9/0x21d0 kernel/bpf/syscall.c:2617\n"
    " __sys_bpf+0x1435/0x5100 kernel/bpf/syscall.c:4977\n"
    " __do_sys_bpf kernel/bpf/syscall.c:5081 [inline]\n"
    " __se_sys_bpf kernel/bpf/syscall.c:5079 [inline]\n"
    " __x64_sys_bpf+0x79/0xc0 kernel/bpf/syscall.c:5079\n"
    " do_syscall_x64 arch/x86/entry/common.c:50 [inline]\n"
    " do_syscall_64+0x39/0xb0 arch/x86/entry/common.c:80\n"
    " entry_SYSCALL_64_after_hwframe+0x63/0xcd\n"
)

# syzkaller pkg/report/testdata/linux/report/696, console lines 4-12 and 23-40 (the x29..x0
# registers left out)
WARNING_IN_FREE_LARGE_KMALLOC = (
    "[   33.760772][ T5931] ------------[ cut here ]------------\n"
    "[   33.761985][ T5931] WARNING: CPU: 1 PID: 5931 at mm/slab_common.c:935"
    " free_large_kmalloc+0x34/0x12c\n"
    "[   33.764014][ T5931] Modules linked in:\n"
    "[   33.764866][ T5931] CPU: 1 PID: 5931 Comm: syz-executor235 Not tainted"
    " 6.3.0-rc7-syzkaller-g14f8db1c0f9a #0\n"
    "[   33.766903][ T5931] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 04/14/2023\n"
    "[   33.769056][ T5931] pstate: 80400005 (Nzcv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)\n"
    "[   33.770737][ T5931] pc : free_large_kmalloc+0x34/0x12c\n"
    "[   33.771839][ T5931] lr : kfree+0xf8/0x19c\n"
    "[   33.772695][ T5931] sp : ffff80001e5a74e0\n"
    "[   33.790504][ T5931] Call trace:\n"
    "[   33.791237][ T5931]  free_large_kmalloc+0x34/0x12c\n"
    "[   33.792301][ T5931]  kfree+0xf8/0x19c\n"
    "[   33.793115][ T5931]  kvfree+0x40/0x50\n"
    "[   33.793955][ T5931]  ext4_expand_extra_isize_ea+0xcec/0x16b4\n"
    "[   33.795209][ T5931]  __ext4_expand_extra_isize+0x290/0x348\n"
    "[   33.796430][ T5931]  __ext4_mark_inode_dirty+0x448/0x848\n"
    "[   33.797595][ T5931]  __ext4_unlink+0x768/0x998\n"
    "[   33.798591][ T5931]  ext4_unlink+0x1b4/0x6a0\n"
    "[   33.799578][ T5931]  vfs_unlink+0x2f0/0x508\n"
    "[   33.800542][ T5931]  do_unlinkat+0x4c8/0x82c\n"
    "[   33.801481][ T5931]  __arm64_sys_unlinkat+0xcc/0xfc\n"
    "[   33.802519][ T5931]  invoke_syscall+0x98/0x2c0\n"
    "[   33.803514][ T5931]  el0_svc_common+0x138/0x258\n"
    "[   33.804492][ T5931]  do_el0_svc+0x64/0x198\n"
    "[   33.805354][ T5931]  el0_svc+0x4c/0x15c\n"
    "[   33.806193][ T5931]  el0t_64_sync_handler+0x84/0xf0\n"
    "[   33.807288][ T5931]  el0t_64_sync+0x190/0x194\n"
)

# syzkaller pkg/report/testdata/linux/report/631, console lines 1-8 and 21-33 (registers left out)
FAULT_IN_READ_ONCE_NOCHECK = (
    "[  335.953960][T15844] BUG: unable to handle page fault for address: ffffc9001652fa68\n"
    "[  335.961732][T15844] #PF: supervisor read access in kernel mode\n"
    "[  335.967715][T15844] #PF: error_code(0x0000) - not-present page\n"
    "[  335.973702][T15844] PGD 10c00067 P4D 10c00067 PUD 10ded067 PMD 6ba82067 PTE 0\n"
    "[  335.981028][T15844] Oops: 0000 [#1] PREEMPT SMP KASAN\n"
    "[  335.986413][T15844] CPU: 1 PID: 15844 Comm: syz-executor.0 Not tainted 5.15.0-syzkaller"
    " #0\n"
    "[  335.994841][T15844] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 01/01/2011\n"
    "[  336.004903][T15844] RIP: 0010:__read_once_word_nocheck+0x0/0x10\n"
    "[  336.116150][T15844] Call Trace:\n"
    "[  336.119433][T15844]  <TASK>\n"
    "[  336.122372][T15844]  __unwind_start+0x3e2/0x800\n"
    "[  336.127065][T15844]  __get_wchan+0xb0/0x150\n"
    "[  336.141515][T15844]  get_wchan+0xa0/0xc0\n"
    "[  336.145663][T15844]  proc_pid_wchan+0xe4/0x140\n"
    "[  336.164689][T15844]  proc_single_show+0x116/0x1e0\n"
    "[  336.169612][T15844]  seq_read_iter+0x4f6/0x1240\n"
    "[  336.174322][T15844]  seq_read+0x3e0/0x5b0\n"
    "[  336.205063][T15844]  vfs_read+0x1b5/0x600\n"
    "[  336.209315][T15844]  ksys_read+0x12d/0x250\n"
    "[  336.223915][T15844]  do_syscall_64+0x35/0xb0\n"
    "[  336.228354][T15844]  entry_SYSCALL_64_after_hwframe+0x44/0xae\n"
)

# syzkaller pkg/report/testdata/linux/report/751, console lines 2-19
KMSAN_IN_CRYPTO = (
    "=====================================================\n"
    "BUG: KMSAN: uninit-value in aes_encrypt+0x1239/0x1960\n"
    " aes_encrypt+0x1239/0x1960\n"
    " aesti_encrypt+0x7d/0xf0\n"
    " cipher_crypt_one+0x120/0x2e0\n"
    " crypto_cipher_encrypt_one+0x33/0x40\n"
    " drbg_ctr_update+0x19a9/0x3700\n"
    " drbg_seed+0xb1e/0xe20\n"
    " drbg_kcapi_seed+0x19b2/0x1e40\n"
    " crypto_rng_reset+0x193/0x250\n"
    " rng_setkey+0x52/0x70\n"
    " alg_setkey+0x265/0x3b0\n"
    " alg_setsockopt+0x503/0x760\n"
    " __sys_setsockopt+0x43e/0x580\n"
    " __x64_sys_setsockopt+0xf4/0x1a0\n"
    " x64_sys_call+0x27c9/0x3e30\n"
    " do_syscall_64+0xd9/0x210\n"
    " entry_SYSCALL_64_after_hwframe+0x77/0x7f\n"
)

# syzkaller pkg/report/testdata/linux/report/616, console lines 1-36
KASAN_HW_TAGS_ARM64 = (
    "[  312.699657][ T5007] BUG: KASAN: invalid-access in __list_add_valid+0x10/0x90\n"
    "[  312.701749][ T5007] Read at addr f6ff00001d527690 by task syz-executor.1/5007\n"
    "[  312.703585][ T5007] Pointer tag: [f6], memory tag: [f5]\n"
    "[  312.704857][ T5007] \n"
    "[  312.706267][ T5007] CPU: 1 PID: 5007 Comm: syz-executor.1 Not tainted"
    " 5.14.0-rc2-syzkaller-00265-gf0fddcec6b62 #0\n"
    "[  312.707896][ T5007] Hardware name: linux,dummy-virt (DT)\n"
    "[  312.708971][ T5007] Call trace:\n"
    "[  312.709686][ T5007]  dump_backtrace+0x0/0x1b0\n"
    "[  312.710577][ T5007]  show_stack+0x18/0x24\n"
    "[  312.711502][ T5007]  dump_stack_lvl+0x68/0x84\n"
    "[  312.712217][ T5007]  print_address_description+0x7c/0x2b4\n"
    "[  312.712977][ T5007]  kasan_report+0x134/0x380\n"
    "[  312.713659][ T5007]  __do_kernel_fault+0x1a8/0x1dc\n"
    "[  312.714400][ T5007]  do_tag_check_fault+0x74/0x90\n"
    "[  312.715108][ T5007]  do_mem_abort+0x44/0xb4\n"
    "[  312.715880][ T5007]  el1_abort+0x40/0x60\n"
    "[  312.716529][ T5007]  el1h_64_sync_handler+0xb0/0xd0\n"
    "[  312.717471][ T5007]  el1h_64_sync+0x78/0x7c\n"
    "[  312.718161][ T5007]  __list_add_valid+0x10/0x90\n"
    "[  312.717471][ T5007]  ip6_mc_del1_src+0x78/0x7c\n"
    "[  312.718855][ T5007]  firmware_fallback_sysfs+0x1a4/0x460\n"
    "[  312.719570][ T5007]  _request_firmware+0x28c/0x510\n"
    "[  312.720377][ T5007]  request_firmware+0x48/0x70\n"
    "[  312.721227][ T5007]  devlink_compat_flash_update+0x9c/0x1ec\n"
    "[  312.722124][ T5007]  ethtool_flash_device+0xf8/0x100\n"
    "[  312.722857][ T5007]  dev_ethtool+0x590/0x2280\n"
    "[  312.723796][ T5007]  dev_ioctl+0x4ec/0x5f0\n"
    "[  312.724506][ T5007]  sock_do_ioctl+0x114/0x2b0\n"
    "[  312.725523][ T5007]  sock_ioctl+0x28c/0x4a0\n"
    "[  312.726466][ T5007]  __arm64_sys_ioctl+0xa8/0xec\n"
    "[  312.727133][ T5007]  invoke_syscall+0x48/0x114\n"
    "[  312.727981][ T5007]  el0_svc_common+0x40/0xdc\n"
    "[  312.728624][ T5007]  do_el0_svc+0x78/0x90\n"
    "[  312.729273][ T5007]  el0_svc+0x2c/0x54\n"
    "[  312.730021][ T5007]  el0t_64_sync_handler+0x1a4/0x1b0\n"
    "[  312.730893][ T5007]  el0t_64_sync+0x1b4/0x1b8\n"
)

# syzkaller pkg/report/testdata/linux/report/726, console lines 1-45
BAD_PAGE_STATE_WITH_PAGE_OWNER = (
    "[  360.589544][ T8978] BUG: Bad page state in process syz.3.584  pfn:7071f\n"
    "[  360.597807][ T8978] page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x7f467f1e8"
    " pfn:0x7071f\n"
    "[  360.607825][ T8978] flags: 0xfff00000000000(node=0|zone=1|lastcpupid=0x7ff)\n"
    "[  360.615503][ T8978] raw: 00fff00000000000 dead000000000040 ffff888062a17000"
    " 0000000000000000\n"
    "[  360.624597][ T8978] raw: 00000007f467f1e8 0000000000000001 00000000ffffffff"
    " 0000000000000000\n"
    "[  360.633711][ T8978] page dumped because: page_pool leak\n"
    "[  360.639671][ T8978] page_owner tracks the page as allocated\n"
    "[  360.646064][ T8978] page last allocated via order 0, migratetype Unmovable, gfp_mask"
    " 0x102820(GFP_ATOMIC|__GFP_NOWARN|__GFP_HARDWALL), pid 8978, tgid 8974 (syz.3.584), ts"
    " 360393802361, free_ts 357078876492\n"
    "[  360.665078][ T8978]  post_alloc_hook+0x1f3/0x230\n"
    "[  360.670446][ T8978]  get_page_from_freelist+0x2e4c/0x2f10\n"
    "SYZFAIL: failed to recv rpc\n"
    "fd=3 want=4 recv=0 n=0 (errno 9: Bad file descriptor)\n"
    "[  360.676464][ T8978]  __alloc_pages_noprof+0x256/0x6c0\n"
    "[  360.682165][ T8978]  alloc_pages_bulk_noprof+0x729/0xd40\n"
    "[  360.687981][ T8978]  __page_pool_alloc_pages_slow+0x138/0x690\n"
    "[  360.694427][ T8978]  page_pool_alloc_pages+0xcb/0x150\n"
    "[  360.700249][ T8978]  bpf_test_run_xdp_live+0x939/0x2110\n"
    "[  360.706140][ T8978]  bpf_prog_test_run_xdp+0x80e/0x11b0\n"
    "[  360.711890][ T8978]  bpf_prog_test_run+0x33a/0x3b0\n"
    "[  360.717211][ T8978]  __sys_bpf+0x48d/0x810\n"
    "[  360.721880][ T8978]  __x64_sys_bpf+0x7c/0x90\n"
    "[  360.726896][ T8978]  do_syscall_64+0xf3/0x230\n"
    "[  360.731978][ T8978]  entry_SYSCALL_64_after_hwframe+0x77/0x7f\n"
    "[  360.738203][ T8978] page last free pid 8932 tgid 8930 stack trace:\n"
    "[  360.744932][ T8978]  free_unref_page+0xd22/0xea0\n"
    "[  360.750056][ T8978]  vfree+0x186/0x2e0\n"
    "[  360.754447][ T8978]  bpf_check+0x7daa/0x19630\n"
    "[  360.759581][ T8978]  bpf_prog_load+0x1667/0x20f0\n"
    "[  360.764781][ T8978]  __sys_bpf+0x4ee/0x810\n"
    "[  360.769481][ T8978]  __x64_sys_bpf+0x7c/0x90\n"
    "[  360.774349][ T8978]  do_syscall_64+0xf3/0x230\n"
    "[  360.779190][ T8978]  entry_SYSCALL_64_after_hwframe+0x77/0x7f\n"
    "[  360.785680][ T8978] Modules linked in:\n"
    "[  360.790303][ T8978] CPU: 1 UID: 0 PID: 8978 Comm: syz.3.584 Not tainted"
    " 6.11.0-rc6-syzkaller-00183-gb831f83e40a2 #0\n"
    "[  360.800948][ T8978] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 08/06/2024\n"
    "[  360.811056][ T8978] Call Trace:\n"
    "[  360.814367][ T8978]  <TASK>\n"
    "[  360.817327][ T8978]  dump_stack_lvl+0x241/0x360\n"
    "[  360.822051][ T8978]  ? __pfx_dump_stack_lvl+0x10/0x10\n"
    "[  360.827292][ T8978]  ? __pfx_print_modules+0x10/0x10\n"
    "[  360.832477][ T8978]  bad_page+0x18e/0x200\n"
    "[  360.836687][ T8978]  free_unref_page+0xe47/0xea0\n"
    "[  360.841504][ T8978]  ? compound_order+0x1a/0x60\n"
    "[  360.846238][ T8978]  skb_release_data+0x6b2/0x880\n"
    "[  360.851155][ T8978]  sk_skb_reason_drop+0x1a5/0x3d0\n"
)

# syzkaller pkg/report/testdata/linux/report/611, console lines 1-36, 44-54 and 62-68
# (registers left out)
STALL_WITH_RCU_PREFIXED_GP_DUMP = (
    "[  180.633803][    C1] rcu: INFO: rcu_sched self-detected stall on CPU\n"
    "[  180.640352][    C1] rcu: \t1-...!: (10499 ticks this GP) idle=72a/1/0x4000000000000000"
    " softirq=10448/10448 fqs=3 \n"
    "[  180.650842][    C1] \t(t=10500 jiffies g=9717 q=30)\n"
    "[  180.655770][    C1] rcu: rcu_sched kthread starved for 10494 jiffies! g9717 f0x0"
    " RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=0\n"
    "[  180.666678][    C1] rcu: \tUnless rcu_sched kthread gets sufficient CPU time, OOM is now"
    " expected behavior.\n"
    "[  180.676457][    C1] rcu: RCU grace-period kthread stack dump:\n"
    "[  180.682329][    C1] task:rcu_sched       state:R  running task on cpu   0   stack:    0"
    " pid:   11 ppid:     2 flags:0x00004000\n"
    "[  180.693859][    C1] Call Trace:\n"
    "[  180.697138][    C1]  __schedule+0x988/0x26f0\n"
    "[  180.712182][    C1]  schedule+0xd7/0x280\n"
    "[  180.716236][    C1]  schedule_timeout+0x15e/0x260\n"
    "[  180.737153][    C1]  rcu_gp_kthread+0x8e8/0x1790\n"
    "[  180.780919][    C1]  kthread+0x39a/0x490\n"
    "[  180.795618][    C1]  ret_from_fork+0x1f/0x30\n"
    "[  180.800050][    C1] NMI backtrace for cpu 1\n"
    "[  180.804366][    C1] CPU: 1 PID: 7502 Comm: syz-executor.5 Not tainted 5.10.0-syzkaller #0\n"
    "[  180.812670][    C1] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 01/01/2011\n"
    "[  180.822789][    C1] Call Trace:\n"
    "[  180.826055][    C1]  <IRQ>\n"
    "[  180.828894][    C1]  dump_stack+0x111/0x171\n"
    "[  180.838824][    C1]  nmi_cpu_backtrace.cold+0x44/0xd8\n"
    "[  180.849193][    C1]  nmi_trigger_cpumask_backtrace+0x1e7/0x210\n"
    "[  180.855160][    C1]  arch_trigger_cpumask_backtrace+0x14/0x20\n"
    "[  180.861038][    C1]  rcu_dump_cpu_stacks+0x1e8/0x226\n"
    "[  180.866136][    C1]  rcu_sched_clock_irq.cold+0x48f/0x95b\n"
    "[  180.871685][    C1]  update_process_times+0x141/0x1c0\n"
    "[  180.876870][    C1]  tick_sched_handle+0xa2/0x190\n"
    "[  180.881707][    C1]  tick_sched_timer+0x1d0/0x2a0\n"
    "[  180.891729][    C1]  __hrtimer_run_queues+0x204/0xec0\n"
    "[  180.902285][    C1]  hrtimer_interrupt+0x30d/0x900\n"
    "[  180.907219][    C1]  __sysvec_apic_timer_interrupt+0xfa/0x430\n"
    "[  180.913094][    C1]  asm_call_irq_on_stack+0xf/0x20\n"
    "[  180.918094][    C1]  </IRQ>\n"
    "[  180.921035][    C1]  sysvec_apic_timer_interrupt+0x98/0xb0\n"
    "[  180.926656][    C1]  asm_sysvec_apic_timer_interrupt+0x12/0x20\n"
    "[  180.932623][    C1] RIP: 0010:lock_is_held_type+0xb0/0xe0\n"
    "[  181.003632][    C1]  rcu_read_lock_sched_held+0x41/0x80\n"
    "[  181.009007][    C1]  lock_acquire+0x5c1/0x770\n"
    "[  181.032369][    C1]  _raw_spin_lock+0x2b/0x40\n"
    "[  181.042299][    C1]  __migration_entry_wait+0x24/0x3f0\n"
    "[  181.047574][    C1]  migration_entry_wait+0x114/0x190\n"
    "[  181.052763][    C1]  do_swap_page+0x1616/0x23b0\n"
    "[  181.062451][    C1]  handle_mm_fault+0x1eef/0x4140\n"
    "[  181.076886][    C1]  do_user_addr_fault+0x49f/0xa00\n"
    "[  181.081899][    C1]  exc_page_fault+0xa3/0x180\n"
    "[  181.086472][    C1]  asm_exc_page_fault+0x1e/0x30\n"
    "[  181.091307][    C1] RIP: 0010:copy_user_generic_unrolled+0x86/0xc0\n"
    "[  181.167899][    C1]  __copy_msghdr_from_user+0xa7/0x4e0\n"
    "[  181.178367][    C1]  sendmsg_copy_msghdr+0xb1/0x170\n"
    "[  181.197885][    C1]  ___sys_sendmsg+0xe8/0x190\n"
    "[  181.243058][    C1]  __sys_sendmmsg+0x1bf/0x4d0\n"
    "[  181.280044][    C1]  __x64_sys_sendmmsg+0x9d/0x100\n"
    "[  181.290858][    C1]  do_syscall_64+0x32/0x50\n"
    "[  181.295261][    C1]  entry_SYSCALL_64_after_hwframe+0x44/0xa9\n"
)

# syzkaller pkg/report/testdata/linux/report/521, console lines 1-33 and 41-58 (registers left out)
STALL_IN_HRTIMER_CALLBACK = (
    "[ 2700.709744][    C0] rcu: INFO: rcu_preempt self-detected stall on CPU\n"
    "[ 2700.716975][    C0] rcu: \t0-...!: (10499 ticks this GP) idle=bde/1/0x4000000000000000"
    " softirq=233837/233838 fqs=1 \n"
    "[ 2700.728310][    C0] \t(t=10500 jiffies g=481481 q=89)\n"
    "[ 2700.733809][    C0] rcu: rcu_preempt kthread starved for 10498 jiffies! g481481 f0x0"
    " RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1\n"
    "[ 2700.745509][    C0] rcu: \tUnless rcu_preempt kthread gets sufficient CPU time, OOM is now"
    " expected behavior.\n"
    "[ 2700.755766][    C0] rcu: RCU grace-period kthread stack dump:\n"
    "[ 2700.761951][    C0] task:rcu_preempt     state:R  running task     stack:29584 pid:   10"
    " ppid:     2 flags:0x00004000\n"
    "[ 2700.773531][    C0] Call Trace:\n"
    "[ 2700.776860][    C0]  __schedule+0xec9/0x2280\n"
    "[ 2700.803797][    C0]  schedule+0xd0/0x2a0\n"
    "[ 2700.807894][    C0]  schedule_timeout+0x148/0x250\n"
    "[ 2700.834718][    C0]  rcu_gp_kthread+0xb2c/0x1ca0\n"
    "[ 2700.886442][    C0]  kthread+0x3b5/0x4a0\n"
    "[ 2700.895694][    C0]  ret_from_fork+0x1f/0x30\n"
    "[ 2700.900422][    C0] NMI backtrace for cpu 0\n"
    "[ 2700.904957][    C0] CPU: 0 PID: 9258 Comm: syz-executor.0 Not tainted 5.9.0-rc3-syzkaller"
    " #0\n"
    "[ 2700.913839][    C0] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 01/01/2011\n"
    "[ 2700.924895][    C0] Call Trace:\n"
    "[ 2700.928198][    C0]  <IRQ>\n"
    "[ 2700.931083][    C0]  dump_stack+0x198/0x1fd\n"
    "[ 2700.935684][    C0]  nmi_cpu_backtrace.cold+0x70/0xb1\n"
    "[ 2700.946943][    C0]  nmi_trigger_cpumask_backtrace+0x1b3/0x223\n"
    "[ 2700.953586][    C0]  rcu_dump_cpu_stacks+0x1e3/0x21e\n"
    "[ 2700.959094][    C0]  rcu_sched_clock_irq.cold+0x4db/0xdfd\n"
    "[ 2700.980420][    C0]  update_process_times+0x25/0xa0\n"
    "[ 2700.985659][    C0]  tick_sched_handle+0x9b/0x180\n"
    "[ 2700.990556][    C0]  tick_sched_timer+0x1d1/0x2a0\n"
    "[ 2700.995533][    C0]  __hrtimer_run_queues+0x1d5/0xfc0\n"
    "[ 2701.019214][    C0]  hrtimer_interrupt+0x334/0x940\n"
    "[ 2701.024477][    C0]  __sysvec_apic_timer_interrupt+0x147/0x5f0\n"
    "[ 2701.030815][    C0]  sysvec_apic_timer_interrupt+0x4c/0xf0\n"
    "[ 2701.036655][    C0]  asm_sysvec_apic_timer_interrupt+0x12/0x20\n"
    "[ 2701.042924][    C0] RIP: 0010:unwind_next_frame+0x10ea/0x1f90\n"
    "[ 2701.141150][    C0]  arch_stack_walk+0x81/0xf0\n"
    "[ 2701.152871][    C0]  stack_trace_save+0x8c/0xc0\n"
    "[ 2701.174481][    C0]  kasan_save_stack+0x1b/0x40\n"
    "[ 2701.354420][    C0]  __kasan_kmalloc.constprop.0+0xbf/0xd0\n"
    "[ 2701.360473][    C0]  kmem_cache_alloc+0x13a/0x3f0\n"
    "[ 2701.365462][    C0]  __build_skb+0x21/0x60\n"
    "[ 2701.369733][    C0]  __netdev_alloc_skb+0x244/0x450\n"
    "[ 2701.375035][    C0]  __ieee80211_beacon_get+0xebe/0x1af0\n"
    "[ 2701.392652][    C0]  ieee80211_beacon_get_tim+0x88/0x910\n"
    "[ 2701.417841][    C0]  mac80211_hwsim_beacon_tx+0x111/0x810\n"
    "[ 2701.423703][    C0]  __iterate_interfaces+0x124/0x4d0\n"
    "[ 2701.442602][    C0]  ieee80211_iterate_active_interfaces_atomic+0x8d/0x170\n"
    "[ 2701.450679][    C0]  mac80211_hwsim_beacon+0xd5/0x1a0\n"
    "[ 2701.456146][    C0]  __hrtimer_run_queues+0x6a9/0xfc0\n"
    "[ 2701.480367][    C0]  hrtimer_run_softirq+0x17b/0x360\n"
    "[ 2701.485538][    C0]  __do_softirq+0x1f8/0xb23\n"
    "[ 2701.490178][    C0]  asm_call_on_stack+0xf/0x20\n"
    "[ 2701.494985][    C0]  </IRQ>\n"
)

# syzkaller pkg/report/testdata/linux/report/501, console lines 1-8, 21-32 and 40-50
# (registers left out)
STALL_IN_RTNETLINK = (
    "[  809.100032][    C1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n"
    "[  809.107137][    C1] rcu: \t0-...0: (1 GPs behind) idle=59a/1/0x4000000000000000"
    " softirq=8266/8267 fqs=5250 \n"
    "[  809.117093][    C1] \t(detected by 1, t=10502 jiffies, g=6117, q=61)\n"
    "[  809.123600][    C1] Sending NMI from CPU 1 to CPUs 0:\n"
    "[  809.130926][    C1] NMI backtrace for cpu 0\n"
    "[  809.130931][    C1] CPU: 0 PID: 6826 Comm: syz-executor019 Not tainted 5.8.0-rc3-syzkaller"
    " #0\n"
    "[  809.130935][    C1] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 01/01/2011\n"
    "[  809.130939][    C1] RIP: 0010:preempt_count_add+0xe/0x150\n"
    "[  809.130993][    C1] Call Trace:\n"
    "[  809.130995][    C1]  <IRQ>\n"
    "[  809.130997][    C1]  _raw_spin_lock+0xe/0x40\n"
    "[  809.131000][    C1]  advance_sched+0x47/0x8c0\n"
    "[  809.131012][    C1]  __hrtimer_run_queues+0x47f/0x930\n"
    "[  809.131014][    C1]  hrtimer_interrupt+0x373/0xd60\n"
    "[  809.131017][    C1]  __sysvec_apic_timer_interrupt+0xf0/0x260\n"
    "[  809.131020][    C1]  asm_call_on_stack+0xf/0x20\n"
    "[  809.131022][    C1]  </IRQ>\n"
    "[  809.131025][    C1]  sysvec_apic_timer_interrupt+0xb9/0x130\n"
    "[  809.131028][    C1]  asm_sysvec_apic_timer_interrupt+0x12/0x20\n"
    "[  809.131032][    C1] RIP: 0010:_raw_spin_unlock_irqrestore+0xa5/0xd0\n"
    "[  809.131066][    C1]  taprio_change+0x4245/0x51f0\n"
    "[  809.131072][    C1]  qdisc_create+0x7d1/0x1410\n"
    "[  809.131077][    C1]  tc_modify_qdisc+0x962/0x1d90\n"
    "[  809.131082][    C1]  rtnetlink_rcv_msg+0x889/0xd40\n"
    "[  809.131105][    C1]  netlink_rcv_skb+0x190/0x3a0\n"
    "[  809.131110][    C1]  netlink_unicast+0x786/0x940\n"
    "[  809.131113][    C1]  netlink_sendmsg+0xa57/0xd70\n"
    "[  809.131118][    C1]  ____sys_sendmsg+0x519/0x800\n"
    "[  809.131124][    C1]  __sys_sendmsg+0x2b1/0x360\n"
    "[  809.131141][    C1]  do_syscall_64+0x73/0xe0\n"
    "[  809.131144][    C1]  entry_SYSCALL_64_after_hwframe+0x44/0xa9\n"
)

# syzkaller pkg/report/testdata/linux/report/1001, console lines 1-9, 13-15, 22 and 26-32
# (the frames between left out); the task's name holds a newline
HUNG_TASK_NAME_WITH_NEWLINE = (
    "[ 1052.080846][   T41] INFO: task ����\n"
    "[ 1052.080846][   T41] �� �!�:18088 blocked for more than 143 seconds.\n"
    "[ 1052.101131][   T41]       Tainted: G             L      syzkaller #0\n"
    '[ 1052.124530][   T41] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this'
    " message.\n"
    "[ 1052.150223][   T41] task:����\n"
    "[ 1052.150223][   T41] �� �!� state:D stack:25960 pid:18088 tgid:18087 ppid:15126 "
    " task_flags:0x400140 flags:0x08080002\n"
    "[ 1052.189780][   T41] Call Trace:\n"
    "[ 1052.199981][   T41]  <TASK>\n"
    "[ 1052.211420][   T41]  __schedule+0x10e9/0x6820\n"
    "[ 1052.227703][   T41]  schedule+0xdd/0x390\n"
    "[ 1052.258119][   T41]  schedule_timeout+0x1b2/0x280\n"
    "[ 1052.260559][   T41]  ? __pfx_schedule_timeout+0x10/0x10\n"
    "[ 1052.348967][   T41]  ? __flush_work+0x928/0xcb0\n"
    "[ 1052.429405][   T41]  ? __pfx___flush_work+0x10/0x10\n"
    "[ 1052.443091][   T41]  ? __pfx_wq_barrier_func+0x10/0x10\n"
    "[ 1052.453168][   T41]  ? __pfx___might_resched+0x10/0x10\n"
    "[ 1052.455225][   T41]  ? rcu_is_watching+0x12/0xc0\n"
    "[ 1052.456896][   T41]  p9_fd_close+0x299/0x5a0\n"
    "[ 1052.458482][   T41]  p9_client_create+0x678/0xd40\n"
    "[ 1052.460555][   T41]  ? __pfx_p9_client_create+0x10/0x10\n"
)

# syzkaller pkg/report/testdata/linux/report/561, console lines 1-24
IRQ_SAFE_TO_UNSAFE = (
    "[  594.649298][ T5097] =====================================================\n"
    "[  594.649596][ T5097] WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected\n"
    "[  594.650724][ T5097] 5.10.0-rc1+ #20 Not tainted\n"
    "[  594.651079][ T5097] -----------------------------------------------------\n"
    "[  594.651602][ T5097] kworker/0:4/5097 [HC0[0]:SC0[0]:HE0:SE1] is trying to acquire:\n"
    "[  594.652340][ T5097] ff76a014 (&syncp->seq#2){+.+.}-{0:0}, at:"
    " cgroup_rstat_flush_locked+0x418/0x608\n"
    "[  594.654435][ T5097] \n"
    "[  594.654435][ T5097] and this task is already holding:\n"
    "[  594.654776][ T5097] de5c895c (per_cpu_ptr(&cgroup_rstat_cpu_lock, cpu)){-...}-{2:2}, at:"
    " cgroup_rstat_flush_locked+0xa0/0x608\n"
    "[  594.655279][ T5097] which would create a new lock dependency:\n"
    "[  594.655513][ T5097]  (per_cpu_ptr(&cgroup_rstat_cpu_lock, cpu)){-...}-{2:2} ->"
    " (&syncp->seq#2){+.+.}-{0:0}\n"
    "[  594.656061][ T5097] \n"
    "[  594.656061][ T5097] but this new dependency connects a HARDIRQ-irq-safe lock:\n"
    "[  594.656335][ T5097]  (per_cpu_ptr(&cgroup_rstat_cpu_lock, cpu)){-...}-{2:2}\n"
    "[  594.656433][ T5097] \n"
    "[  594.656433][ T5097] ... which became HARDIRQ-irq-safe at:\n"
    "[  594.657091][ T5097]   lock_acquire.part.0+0xe4/0x4b0\n"
    "[  594.657383][ T5097]   lock_acquire+0x6c/0x74\n"
    "[  594.657566][ T5097]   _raw_spin_lock_irqsave+0x54/0x70\n"
    "[  594.657810][ T5097]   cgroup_rstat_updated+0x54/0xac\n"
    "[  594.658017][ T5097]   cgroup_base_stat_cputime_account_end+0x40/0x74\n"
    "[  594.658226][ T5097]   __cgroup_account_cputime_field+0x54/0x70\n"
    "[  594.658426][ T5097]   task_group_account_field+0x100/0x210\n"
    "[  594.658619][ T5097]   account_system_index_time+0x88/0x94\n"
)


def _only_report(text: str) -> KernelReport:
    reports = parse_text(text)
    assert len(reports) == 1, [r.title for r in reports]
    return reports[0]


def test_lockdep_before_4_14_printed_bug_headers_in_brackets() -> None:
    # kernel/locking/lockdep.c print_unlock_imbalance_bug(), 4.9:
    # "[ BUG: bad unlock balance detected! ]"
    report = _only_report(OLD_LOCKDEP_BRACKETS)
    assert report.kind == "LOCKDEP"
    assert report.title.startswith("BUG: bad unlock balance")


def test_an_indirect_call_thunk_is_not_where_a_fault_is() -> None:
    report = _only_report(GPF_IN_THUNK)
    assert report.rip == "0010:__x86_indirect_thunk_rbx+0x10/0x20"
    assert report.title == "general protection fault in locks_remove_file"


def test_lockdeps_unlock_imbalance_printer_is_reporting_machinery() -> None:
    report = _only_report(UNLOCK_IMBALANCE_ARM64)
    assert report.title == "WARNING: bad unlock balance in restore_fpsimd_context"


def test_a_fault_in_a_timer_callback_is_named_from_the_interrupt_stack() -> None:
    # The trace starts on the IRQ stack (the timer softirq faulted), then shows
    # the task it interrupted, below its own RIP line.
    report = _only_report(FAULT_IN_TIMER_IRQ)
    assert report.title == "BUG: unable to handle kernel paging request in __run_timers"


def test_a_stall_in_an_ioctl_is_named_by_the_handler_the_vfs_called() -> None:
    report = _only_report(STALL_IN_IOCTL)
    assert report.title == "INFO: rcu detected stall in kvm_vcpu_ioctl"


def test_the_starved_grace_period_kthreads_stack_is_not_the_stalled_cpus() -> None:
    # kernel/rcu/tree_stall.h: "RCU grace-period kthread stack dump:" and the
    # kthread's stack come before the stalled CPU's NMI backtrace.
    report = _only_report(STALL_WITH_GP_KTHREAD_DUMP)
    assert report.title == "INFO: rcu detected stall in sctp_generate_heartbeat_event"


def test_a_new_boot_after_other_output_is_an_unexpected_reboot() -> None:
    report = _only_report(REBOOT_AFTER_PROGRAM)
    assert (report.kind, report.title, report.start_line) == (
        "REBOOT",
        "unexpected kernel reboot",
        3,
    )


def test_a_second_kernel_boot_is_a_reboot_and_a_first_one_is_not() -> None:
    boot = load(CORPUS / "boot-clean-smp1.log").text
    assert parse_text(boot) == []
    (report,) = parse_text(boot + boot)
    assert report.kind == "REBOOT"
    assert report.header.startswith("Linux version ")


def test_proc_version_on_a_console_the_shell_shares_is_not_a_reboot() -> None:
    # A guest without a command port: `cat /proc/version` prints the banner
    # there, without the time-0 stamp of the kernel's own.
    boot = load(CORPUS / "boot-clean-smp1.log").text
    banner = next(ln for ln in boot.splitlines() if "] Linux version " in ln)
    proc_version = banner.split("] ", 1)[1]
    assert parse_text(boot + proc_version + "\n") == []
    assert parse_text("# /proc/version\n" + proc_version + "\n") == []


def test_a_kcsan_assert_names_its_bug_type_with_the_colon() -> None:
    # kernel/kcsan/report.c: "BUG: KCSAN: assert: race in f" for ASSERT_EXCLUSIVE_*()
    report = _only_report(KCSAN_ASSERT)
    assert (report.kind, report.title) == ("KCSAN", "KCSAN: assert: race in dequeue_entities")


def test_lockdeps_nested_lock_header_is_capitalised_and_its_title_is_not() -> None:
    report = _only_report(NESTED_LOCK_NOT_TAKEN)
    assert (report.kind, report.title) == ("LOCKDEP", "WARNING: nested lock was not taken in evict")


def test_arms_unwinder_is_reporting_machinery() -> None:
    # arch/arm/kernel/unwind.c: "[<pc>] (unwind_backtrace) from [<lr>] (show_stack+...)"
    report = _only_report(ARM_WARNING_UNWIND)
    assert report.title == "WARNING in xfrm6_tunnel_net_exit"


def test_the_lock_core_is_passed_over_for_the_caller_of_a_bad_lock() -> None:
    # syzkaller's skip list has lock_acquire: a bad lock pointer faults in
    # __lock_acquire, and the function that passed it is named
    report = _only_report(GPF_IN_LOCK_CORE)
    assert report.title == "general protection fault in sg_remove_request"


def test_the_lock_core_is_named_when_no_caller_was_printed() -> None:
    report = parse_text(LOCK_CORE_ONLY)[0]
    assert report.function == "__lock_acquire"


def test_an_skb_helpers_bug_on_names_its_caller() -> None:
    # net/core/skbuff.c skb_under_panic(): skb_push() BUG()s on its caller's misuse
    report = _only_report(SKB_HELPER_BUG)
    assert report.title == "kernel BUG in ipgre_header"


def test_a_stack_protector_panic_naming_an_address_is_named_from_its_trace() -> None:
    report = _only_report(STACK_PROTECTOR_ADDRESS)
    assert report.title == "kernel panic: stack is corrupted in ip6_xmit"


def test_a_syscall_entry_symbol_loses_its_longest_prefix() -> None:
    report = _only_report(SE_SYS_PREFIX)
    assert report.title == "WARNING: refcount bug in memfd_secret"


def test_where_preemption_was_disabled_is_not_the_reports_stack() -> None:
    # kernel/sched/core.c __schedule_bug(): "Preemption disabled at:" and one ip
    report = _only_report(PREEMPTION_DISABLED_AT)
    assert report.title == "BUG: scheduling while atomic in exit_to_user_mode_prepare"


def test_powerpcs_trap_site_line_names_the_warning_function() -> None:
    # arch/powerpc: program_check_exception() handles the trap; the trace names
    # the trapping function in "--- interrupt: 700 at f+0x.."
    report = _only_report(POWERPC_WARNING)
    assert report.title == "WARNING in assert_slb_presence"


def test_lockdep_on_3_x_padded_the_function_after_its_address() -> None:
    report = parse_text(OLD_LOCKDEP_PADDED_AT)[0]
    assert report.function == "serial8250_console_write"


def test_a_sanitizers_header_function_is_named_when_no_stack_follows() -> None:
    report = parse_text(KASAN_HEADER_ONLY)[0]
    assert report.title == "KASAN: slab-out-of-bounds Read in memcpy"


def test_a_fault_in_a_string_helper_with_no_caller_is_corrupted() -> None:
    report = parse_text(FAULT_IN_HELPER_ONLY)[0]
    assert report.title == "BUG: unable to handle kernel paging request in corrupted"


def test_vsprintfs_helpers_and_the_dev_printers_are_passed_over() -> None:
    # lib/vsprintf.c hex_string()/pointer()/vsnprintf(), printk and _dev_info()
    # format what their caller passed: syzkaller skips "string", "pointer",
    # "scnprintf", "dev_info" anywhere in a name
    report = parse_text(KASAN_IN_PRINTK_HELPERS)[0]
    assert report.title == "KASAN: slab-out-of-bounds Read in dlfb_usb_probe"


def test_ubsan_before_5_x_is_titled_undefined_behaviour_in_its_function() -> None:
    # lib/ubsan.c before 5.x: "UBSAN: Undefined behaviour in f.c:1:2"; syzkaller's
    # current title is "UBSAN: undefined-behaviour in <function>"
    report = parse_text(OLD_UBSAN_UNDEFINED)[0]
    assert report.title == "UBSAN: undefined-behaviour in proc_do_submiturb"


def test_the_unwinders_bad_register_is_named_in_the_title() -> None:
    # arch/x86/kernel/unwind_frame.c: "... has bad 'bp' value"
    report = parse_text(UNWINDER_BAD_BP)[0]
    assert report.title == "WARNING: kernel stack regs has bad 'bp' value"


def test_a_bad_page_map_is_titled_without_a_function() -> None:
    report = parse_text(BAD_PAGE_MAP)[0]
    assert report.title == "BUG: Bad page map"


def test_the_n_tty_ldisc_panic_is_titled_without_its_tty_and_errno() -> None:
    report = parse_text(N_TTY_PANIC)[0]
    assert report.title == "kernel panic: Couldn't open N_TTY ldisc"


def test_a_warning_cut_after_its_trap_registers_is_corrupted() -> None:
    # 4.x-5.x: the trap frames, then RIP:/Code:/registers, then the trace goes on;
    # the console ended before it did
    report = parse_text(WARNING_CUT_AFTER_REGISTERS)[0]
    assert report.corrupted
    assert report.title == "WARNING in corrupted/usb_submit_urb"


def test_a_circular_deadlock_passes_over_the_workqueues_lock_sites_to_its_chain() -> None:
    # lockdep's "at:" sites are process_one_work's work-item and workqueue maps:
    # the first frame of the dependency chain ("-> #2") that is not workqueue or
    # locking machinery is named (syzkaller: flush_workqueue, process_one_work skipped)
    report = parse_text(CIRCULAR_VIA_WORKQUEUE)[0]
    assert report.title == "possible deadlock in peer_remove_after_dead"


def test_an_unlock_imbalance_names_the_ip_lockdep_printed_under_its_lock() -> None:
    # print_unlock_imbalance_bug(): "... is trying to release lock (l) at:" then
    # print_ip_sym() on its own line; the held locks' "at:" sites are not it
    report = parse_text(UNLOCK_IMBALANCE_IP_LINE)[0]
    assert report.title == "WARNING: bad unlock balance in ipmr_mfc_seq_stop"


def test_a_task_hung_in_a_helper_of_synchronize_srcu_is_in_the_rcu_bucket() -> None:
    # kernel/rcu/srcutree.c: synchronize_srcu() waits in __synchronize_srcu(); a
    # frame holding a bucket's name anywhere is in the bucket (syzkaller's hang extractor)
    report = _only_report(HUNG_IN_SRCU)
    assert report.title == "INFO: task hung in synchronize_rcu"


def test_a_stall_whose_stack_was_never_printed_is_in_corrupted() -> None:
    # syzkaller titles a report whose stack yields no frame "... in corrupted"
    report = _only_report(RCU_STALL_HEADER_ONLY)
    assert report.corrupted
    assert report.title == "INFO: rcu detected stall in corrupted"


def test_a_dentry_still_in_use_is_read_past_the_two_spaces_umount_check_prints() -> None:
    # fs/dcache.c umount_check(): "BUG: Dentry %p{i=%lx,n=%pd}  still in use (%d) ..."
    report = parse_text(DENTRY_STILL_IN_USE)[0]
    assert report.title == "BUG: Dentry still in use [unmount of proc proc]"


def test_arm64s_unable_to_handle_is_titled_as_x86s_page_fault() -> None:
    # arch/arm64/mm/fault.c die_kernel_fault(): "Unable to handle kernel paging request
    # at virtual address ..."; syzkaller: "BUG: unable to handle kernel %s in f", named
    # by "pc :" (the "Internal error: Oops:" after it is part of the same report)
    report = _only_report(ARM64_UNABLE_TO_HANDLE)
    assert report.title == "BUG: unable to handle kernel paging request in selinux_socket_sendmsg"


def test_an_arm64_internal_error_on_its_own_is_named_by_its_pc() -> None:
    # arch/arm64/kernel/traps.c die(): "Internal error: synchronous external abort: ..."
    report = _only_report(ARM64_INTERNAL_ERROR)
    assert report.title == "Internal error in clear_page"


def test_an_arm_unhandled_fault_is_one_report_with_its_internal_error() -> None:
    # arch/arm/mm/fault.c do_DataAbort(): "Unhandled fault: page domain fault ..."
    report = _only_report(ARM_UNHANDLED_FAULT)
    assert report.title == "Unhandled fault in jffs2_parse_param"


def test_an_arm_alignment_trap_is_one_report_named_by_its_pc() -> None:
    # arch/arm/mm/alignment.c: "Alignment trap: not handling instruction ...", then
    # "Unhandled fault: alignment exception" and die()'s "Internal error": one report.
    # syzkaller's current linux.go reads "PC is at" first (linuxRipFrame), so it is
    # named although no "Backtrace:" line was printed (the testdata file, from an
    # older syzkaller, says "in corrupted"); it is corrupted all the same.
    report = _only_report(ARM_ALIGNMENT_TRAP)
    assert report.title == "Alignment trap in dup_fd"
    assert report.corrupted


def test_lockdeps_invalid_wait_context_is_a_locking_bug_named_from_its_trace() -> None:
    # kernel/locking/lockdep.c print_lock_invalid_wait_context(): "[ BUG: Invalid wait
    # context ]"; syzkaller titles it "WARNING: locking bug in f", past __might_fault
    report = _only_report(ARM64_INVALID_WAIT_CONTEXT)
    assert (report.kind, report.title) == ("LOCKDEP", "WARNING: locking bug in kernel_wait4")


def test_the_bogus_irq_restore_warning_names_the_function_that_restored() -> None:
    # kernel/locking/irqflag-debug.c warn_bogus_irq_restore() WARNs on its caller's
    # behalf (syzkaller skips "warn_bogus")
    report = _only_report(WARN_BOGUS_IRQ_RESTORE)
    assert report.title == "WARNING in kvm_wait"


def test_a_warning_in_an_mm_malloc_helper_is_a_kmalloc_bug() -> None:
    # syzkaller: "WARNING: .*mm/.*\\.c.* k?.?malloc" (here mm/util.c kvmalloc_node)
    report = _only_report(KVMALLOC_WARNING)
    assert report.title == "WARNING: kmalloc bug in cpu_map_update_elem"


def test_a_warning_in_vmalloc_node_range_is_a_zero_size_vmalloc() -> None:
    # syzkaller: "WARNING: .*mm/vmalloc.c.*__vmalloc_node"; vzalloc is passed over
    report = _only_report(ZERO_SIZE_VMALLOC)
    assert report.title == "WARNING: zero-size vmalloc in bpf_check"


def test_allocator_names_are_passed_over_wherever_malloc_is_in_them() -> None:
    # syzkaller's "k?v?(?:m|z|c)alloc" is not anchored: free_large_kmalloc, and kfree
    # and kvfree, are the allocator; a WARNING outside mm/*.c's malloc helpers stays one
    report = _only_report(WARNING_IN_FREE_LARGE_KMALLOC)
    assert report.title == "WARNING in ext4_expand_extra_isize_ea"


def test_a_fault_in_the_unwinders_unchecked_read_names_the_unwinder() -> None:
    # arch/x86/kernel/unwind_orc.c reads the stack with READ_ONCE_NOCHECK():
    # __read_once_word_nocheck faults on its caller's address (syzkaller's skip list)
    report = _only_report(FAULT_IN_READ_ONCE_NOCHECK)
    assert report.title == "BUG: unable to handle kernel paging request in __unwind_start"


def test_kmsan_passes_over_the_generic_crypto_code() -> None:
    # syzkaller's KMSAN skip list: "_encrypt$", "^(?:crypto|cipher|drbg|rng)_"
    report = _only_report(KMSAN_IN_CRYPTO)
    assert report.title == "KMSAN: uninit-value in alg_setkey"


def test_an_arm64_tag_check_kasan_report_reads_its_access_without_a_size() -> None:
    # mm/kasan/report.c, KASAN_HW_TAGS (arm64 MTE): "Read at addr f by task t/1", no
    # size; the tag-check fault path (do_tag_check_fault, el1_abort...) and the list
    # helper the header names are passed over (syzkaller's skip for this header)
    report = _only_report(KASAN_HW_TAGS_ARM64)
    assert report.title == "KASAN: invalid-access Read in ip6_mc_del1_src"


def test_a_bad_page_state_is_named_by_the_pages_allocation_stack() -> None:
    # mm/page_owner.c: "page last allocated via ..." and its stack; the page pool and
    # allocator frames are passed over (syzkaller: parts "page last allocated")
    report = parse_text(BAD_PAGE_STATE_WITH_PAGE_OWNER)[0]
    assert report.title == "BUG: Bad page state in bpf_test_run_xdp_live"


def test_the_grace_period_kthreads_dump_is_aside_with_rcus_pr_fmt_too() -> None:
    # kernel/rcu/tree_stall.h since 4.20: "rcu: RCU grace-period kthread stack dump:";
    # a page fault is no dispatcher (syzkaller's anchors): the syscall is named
    report = _only_report(STALL_WITH_RCU_PREFIXED_GP_DUMP)
    assert report.title == "INFO: rcu detected stall in sys_sendmmsg"


def test_a_stall_reads_from_the_first_timer_interrupts_rip_to_the_hrtimer_dispatcher() -> None:
    # syzkaller: parts "apic_timer_interrupt", the RIP line after it, its stack; the
    # hrtimer softirq (hrtimer_run_softirq, __hrtimer_run_queues) dispatches callbacks
    report = _only_report(STALL_IN_HRTIMER_CALLBACK)
    assert report.title == "INFO: rcu detected stall in mac80211_hwsim_beacon"


def test_a_stall_under_rtnetlink_names_the_netlink_handler() -> None:
    # syzkaller's stall anchors have "^rtnetlink_rcv_msg": its handler is named
    report = _only_report(STALL_IN_RTNETLINK)
    assert report.title == "INFO: rcu detected stall in tc_modify_qdisc"


def test_a_header_split_by_a_newline_in_a_task_name_is_read_whole() -> None:
    # kernel/hung_task.c: "INFO: task %s:%d blocked for more than %ld seconds." with a
    # comm holding "\n": printk prints both halves with the same stamp and caller
    report = _only_report(HUNG_TASK_NAME_WITH_NEWLINE)
    assert (report.kind, report.title) == ("HUNG_TASK", "INFO: task hung in p9_fd_close")
    assert report.start_line == 1


def test_a_header_keyword_and_an_unrelated_next_line_start_nothing() -> None:
    # the join is for one message's lines only: a different stamp is another message
    text = "[   1.000000] INFO: task foo\n[   1.000001] bar:1 blocked for more than 9 seconds.\n"
    assert parse_text(text) == []


def test_an_irq_safe_to_unsafe_order_is_named_where_the_lock_became_irq_safe() -> None:
    # kernel/locking/lockdep.c print_bad_irq_dependency(): syzkaller's stack part is
    # "which became (?:.*) at:", not the "at:" site of the lock being taken
    report = parse_text(IRQ_SAFE_TO_UNSAFE)[0]
    assert report.title == "possible deadlock in cgroup_rstat_updated"


# syzkaller pkg/report/testdata/linux/report/544, console lines 1-15 (riscv)
PREEMPTIBLE_RISCV = (
    "[   74.831966][ T4088] BUG: using smp_processor_id() in preemptible [00000000] code:"
    " dhcpcd/4088\n"
    "[   74.832401][ T4088] caller is debug_smp_processor_id+0x1c/0x26\n"
    "[   74.832713][ T4088] CPU: 1 PID: 4088 Comm: dhcpcd Not tainted 5.10.2 #18\n"
    "[   74.833035][ T4088] Call Trace:\n"
    "[   74.833253][ T4088] [<ffffffe00020383c>] walk_stackframe+0x0/0xaa\n"
    "[   74.833582][ T4088] [<ffffffe002141ec4>] show_stack+0x32/0x3e\n"
    "[   74.833878][ T4088] [<ffffffe002150a3a>] dump_stack+0x8e/0xb4\n"
    "[   74.834212][ T4088] [<ffffffe002173288>] check_preemption_disabled+0xaa/0xac\n"
    "[   74.834564][ T4088] [<ffffffe0021732a6>] debug_smp_processor_id+0x1c/0x26\n"
    "[   74.834906][ T4088] [<ffffffe000203fd0>] get_cache_size+0x18/0x68\n"
    "[   74.835234][ T4088] [<ffffffe00046a262>] load_elf_binary+0x8a4/0xeee\n"
    "[   74.835557][ T4088] [<ffffffe0003eb4a2>] bprm_execve+0x352/0x7da\n"
    "[   74.835881][ T4088] [<ffffffe0003ec17e>] do_execveat_common+0x10c/0x150\n"
    "[   74.836242][ T4088] [<ffffffe0003ece8e>] sys_execve+0x24/0x30\n"
    "[   74.836546][ T4088] [<ffffffe000201ba0>] ret_from_syscall+0x0/0x2\n"
)

# syzkaller pkg/report/testdata/linux/report/518, console lines 1-4 and 17-27
GPF_ON_THE_IRQ_STACK = (
    "[   71.480406][    C0] general protection fault: 0000 [#1] PREEMPT SMP KASAN\n"
    "[   71.480415][    C0] CPU: 0 PID: 8856 Comm: syz-executor.2 Not tainted 5.2.0-rc4+ #32\n"
    "[   71.480420][    C0] Hardware name: Google Google Compute Engine/Google Compute Engine,"
    " BIOS Google 01/01/2011\n"
    "[   71.480431][    C0] RIP: 0010:rb_next+0xd7/0x140\n"
    "[   71.633702][    C0] Call Trace:\n"
    "[   71.636972][    C0]  <IRQ>\n"
    "[   71.639833][    C0]  timerqueue_del+0xd8/0x150\n"
    "[   71.644475][    C0]  __remove_hrtimer+0xa8/0x1c0\n"
    "[   71.649244][    C0]  __hrtimer_run_queues+0x2a8/0xdd0\n"
    "[   71.673258][    C0]  hrtimer_interrupt+0x314/0x770\n"
    "[   71.678190][    C0]  smp_apic_timer_interrupt+0x111/0x550\n"
    "[   71.683810][    C0]  apic_timer_interrupt+0xf/0x20\n"
    "[   71.688725][    C0]  </IRQ>\n"
    "[   71.691649][    C0] Modules linked in:\n"
    "[   71.695531][    C0] \n"
)


def test_the_preemption_checker_itself_is_never_guilty() -> None:
    # lib/smp_processor_id.c: check_preemption_disabled() dumps the stack from inside
    # debug_smp_processor_id(); syzkaller skips "debug_", "processor_id", "this_cpu"
    report = _only_report(PREEMPTIBLE_RISCV)
    assert report.title == "BUG: using smp_processor_id() in preemptible code in get_cache_size"


def test_a_fault_whose_trace_starts_on_the_irq_stack_is_named_there() -> None:
    # x86 show_trace_log_lvl() prints the stack the fault ran on first: below the RIP
    # line (rb_next, a helper passed over) the timer callback is the guilty frame
    report = _only_report(GPF_ON_THE_IRQ_STACK)
    assert report.title == "general protection fault in timerqueue_del"


# syzkaller pkg/report/testdata/linux/report/538, console lines 1, 8, 10, 21-37, 45-47, 55-70
SOFT_LOCKUP_IN_A_TASKLET = (
    "[  516.671899][    C1] watchdog: BUG: soft lockup - CPU#1 stuck for 134s!"
    " [syz-executor.3:16401]\n"
    "[  516.731179][    C1] CPU: 1 PID: 16401 Comm: syz-executor.3 Not tainted"
    " 5.10.0-rc6-syzkaller #0\n"
    "[  516.750065][    C1] RIP: 0010:__sanitizer_cov_trace_switch+0xe/0x70\n"
    "[  516.846256][    C1] Call Trace:\n"
    "[  516.849610][    C1]  <IRQ>\n"
    "[  516.852462][    C1]  jhash+0x1d7/0x5d0\n"
    "[  516.856438][    C1]  __rhashtable_lookup+0x22b/0x780\n"
    "[  516.897170][    C1]  sta_info_get_bss+0x144/0x3f0\n"
    "[  516.911609][    C1]  ieee80211_rx_list+0xdd3/0x23d0\n"
    "[  516.938278][    C1]  ieee80211_rx_napi+0xf7/0x3d0\n"
    "[  516.954196][    C1]  ieee80211_tasklet_handler+0xd3/0x130\n"
    "[  516.959733][    C1]  tasklet_action_common.constprop.0+0x22f/0x2d0\n"
    "[  516.966051][    C1]  __do_softirq+0x2a0/0x9f6\n"
    "[  516.970547][    C1]  asm_call_irq_on_stack+0xf/0x20\n"
    "[  516.975552][    C1]  </IRQ>\n"
    "[  516.978481][    C1]  do_softirq_own_stack+0xaa/0xd0\n"
    "[  516.983491][    C1]  irq_exit_rcu+0x132/0x200\n"
    "[  516.987990][    C1]  sysvec_apic_timer_interrupt+0x4d/0x100\n"
    "[  516.993697][    C1]  asm_sysvec_apic_timer_interrupt+0x12/0x20\n"
    "[  516.999663][    C1] RIP: 0010:preempt_schedule_irq+0x49/0x90\n"
    "[  517.080975][    C1]  irqentry_exit+0x7a/0xa0\n"
    "[  517.085464][    C1]  asm_sysvec_apic_timer_interrupt+0x12/0x20\n"
    "[  517.091434][    C1] RIP: 0010:preempt_schedule_common+0x19/0xc0\n"
    "[  517.163473][    C1]  preempt_schedule_thunk+0x16/0x18\n"
    "[  517.168997][    C1]  put_cpu_partial+0x138/0x200\n"
    "[  517.173772][    C1]  qlist_free_all+0x5a/0xc0\n"
    "[  517.178279][    C1]  quarantine_reduce+0x17e/0x200\n"
    "[  517.183217][    C1]  __kasan_kmalloc.constprop.0+0x9e/0xd0\n"
    "[  517.193357][    C1]  kmem_cache_alloc_node+0x13b/0x490\n"
    "[  517.198653][    C1]  __alloc_skb+0x71/0x550\n"
    "[  517.202995][    C1]  sk_stream_alloc_skb+0x109/0xc30\n"
    "[  517.208455][    C1]  tcp_sendmsg_locked+0xbb7/0x2d20\n"
    "[  517.228136][    C1]  tcp_sendmsg+0x2b/0x40\n"
    "[  517.232377][    C1]  inet_sendmsg+0x99/0xe0\n"
    "[  517.241996][    C1]  sock_sendmsg+0xcf/0x120\n"
    "[  517.246415][    C1]  __sys_sendto+0x21c/0x320\n"
    "[  517.281952][    C1]  __x64_sys_sendto+0xdd/0x1b0\n"
    "[  517.297945][    C1]  do_syscall_64+0x2d/0x70\n"
    "[  517.302373][    C1]  entry_SYSCALL_64_after_hwframe+0x44/0xa9\n"
)


def test_a_soft_lockup_reads_its_stack_from_the_rip_line_down_in_any_context() -> None:
    # kernel/watchdog.c shows the interrupted regs and stack; syzkaller's parts are
    # the RIP line, "Call Trace:", every frame: the softirq's tasklet_action anchors
    # the tasklet it ran, before the task it interrupted
    report = parse_text(SOFT_LOCKUP_IN_A_TASKLET)[0]
    assert report.title == "BUG: soft lockup in ieee80211_tasklet_handler"


# syzkaller pkg/report/testdata/linux/report/548, console lines 1-25 (arm)
ARM_FAULT_IN_THE_ABORT_HANDLER = (
    "[ 9080.453689][T11783] 8<--- cut here ---\n"
    "[ 9080.454760][T11783] Unhandled fault: page domain fault (0x01b) at 0x00000e30\n"
    "[ 9080.455761][T11783] pgd = e852c1e3\n"
    "[ 9080.456588][T11783] [00000e30] *pgd=e8c3e835\n"
    "[ 9080.459344][T11783] Internal error: : 1b [#1] PREEMPT SMP ARM\n"
    "[ 9080.461027][T11783] Dumping ftrace buffer:\n"
    "[ 9080.462253][T11783]    (ftrace buffer empty)\n"
    "[ 9080.463160][T11783] Modules linked in:\n"
    "[ 9080.464375][T11783] CPU: 1 PID: 11783 Comm: syz-executor.0 Not tainted 5.10.0-rc1+ #18\n"
    "[ 9080.465313][T11783] Hardware name: ARM-Versatile Express\n"
    "[ 9080.467190][T11783] PC is at __sanitizer_cov_trace_pc+0x4c/0x78\n"
    "[ 9080.468129][T11783] LR is at trace_hardirqs_off+0x6c/0x120\n"
    "[ 9080.468826][T11783] pc : [<802b4048>]    lr : [<802e1324>]    psr: 60000193\n"
    "[ 9080.469644][T11783] sp : 8bdfc010  ip : 8bdfc020  fp : 8bdfc01c\n"
    "[ 9080.470461][T11783] r10: 8591b080  r9 : 8bdfc000  r8 : 00000001\n"
    "[ 9080.471172][T11783] r7 : 80100a74  r6 : 844fbc1c  r5 : 60000193  r4 : 8bdfc000\n"
    "[ 9080.471940][T11783] r3 : 8bdfc000  r2 : 00000000  r1 : 00000000  r0 : 00000000\n"
    "[ 9080.472938][T11783] Flags: nZCv  IRQs off  FIQs on  Mode SVC_32  ISA ARM  Segment none\n"
    "[ 9080.474920][T11783] Control: 10c5387d  Table: 8a14806a  DAC: 00000051\n"
    "[ 9080.475742][T11783] Process syz-executor.0 (pid: 11783, stack limit = 0xdf960dff)\n"
    "[ 9080.476792][T11783] Stack: (0x8bdfc010 to 0x00002000)\n"
    "[ 9080.477621][T11783] Backtrace: \n"
    "[ 9080.479068][T11783] [<802b3ffc>] (__sanitizer_cov_trace_pc) from [<802e1324>]"
    " (trace_hardirqs_off+0x6c/0x120)\n"
    "[ 9080.480508][T11783] [<802e12b8>] (trace_hardirqs_off) from [<80100a74>]"
    " (__dabt_svc+0x54/0xa0)\n"
    "[ 9080.481456][T11783] Exception stack(0x8bdfc048 to 0x8bdfc090)\n"
)


def test_arm_register_and_stack_limit_lines_belong_to_the_oops() -> None:
    # arch/arm/kernel/process.c __show_regs() ("r10: ", "Flags: ", "Control: "),
    # arch/arm/mm/fault.c show_pte() ("pgd = ", "*pgd="), arch/arm/kernel/traps.c
    # __die() ("Process ... stack limit") and dump_mem() ("Stack: (... to ...)")
    report = _only_report(ARM_FAULT_IN_THE_ABORT_HANDLER)
    assert not report.corrupted


def test_an_arm_backtraces_last_caller_is_a_frame_too() -> None:
    # arch/arm/kernel/traps.c dump_backtrace_entry(): "(f) from [<pc>] (caller+off)";
    # syzkaller reads both names, so the exception entry on the last line is named
    report = _only_report(ARM_FAULT_IN_THE_ABORT_HANDLER)
    assert report.title == "Unhandled fault in __dabt_svc"


# syzkaller pkg/report/testdata/linux/report/688, console lines 9-36 and 51-68 (arm64;
# the login prompt before the header left out)
STALL_SELF_DETECTED_ARM64 = (
    "[  417.725670][    C1] rcu: INFO: rcu_sched self-detected stall on CPU\n"
    "[  417.727544][    C1] rcu: \t1-...!: (10499 ticks this GP)"
    " idle=9f9/1/0x4000000000000002 softirq=2116/2117 fqs=0 \n"
    "[  417.730327][    C1] \t(t=10500 jiffies g=989 q=72)\n"
    "[  417.731616][    C1] rcu: rcu_sched kthread starved for 10500 jiffies! g989 f0x0"
    " RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=0\n"
    "[  417.734458][    C1] rcu: \tUnless rcu_sched kthread gets sufficient CPU time, OOM is"
    " now expected behavior.\n"
    "[  417.737083][    C1] rcu: RCU grace-period kthread stack dump:\n"
    "[  417.738658][    C1] task:rcu_sched       state:R  running task on cpu   0   stack:  "
    "  0 pid:   13 ppid:     2 flags:0x00000008\n"
    "[  417.741712][    C1] Call trace:\n"
    "[  417.742580][    C1]  __switch_to+0x123/0x123\n"
    "[  417.743759][    C1]  __schedule+0x123/0x123\n"
    "[  417.744891][    C1]  schedule+0x123/0x123\n"
    "[  417.745979][    C1]  schedule_timeout+0x123/0x123\n"
    "[  417.747210][    C1]  rcu_gp_fqs_loop+0x123/0x123\n"
    "[  417.748498][    C1]  rcu_gp_kthread+0x123/0x123\n"
    "[  417.749712][    C1]  kthread+0x123/0x123\n"
    "[  417.750767][    C1]  ret_from_fork+0x123/0x123\n"
    "[  417.751954][    C1] rcu: Stack dump where RCU GP kthread last ran:\n"
    "[  417.753610][    C1] Task dump for CPU 0:\n"
    "[  417.754667][    C1] task:syz-executor913 state:R  running task on cpu   0   stack:  "
    "  0 pid: 1432 ppid:  1414 flags:0x00000002\n"
    "[  417.757734][    C1] Call trace:\n"
    "[  417.758593][    C1]  __switch_to+0x123/0x123\n"
    "[  417.759750][    C1]  0x202\n"
    "[  417.760503][    C1] Task dump for CPU 1:\n"
    "[  417.761565][    C1] task:syz-executor913 state:R  running task on cpu   1   stack:  "
    "  0 pid: 1429 ppid:  1407 flags:0x00000002\n"
    "[  417.764661][    C1] Call trace:\n"
    "[  417.765509][    C1]  walk_stackframe+0x123/0x123\n"
    "[  417.766717][    C1]  show_stack+0x123/0x123\n"
    "[  417.767848][    C1]  _sched_show_task+0x123/0x123\n"
    "[  417.787489][    C1]  do_interrupt_handler+0x123/0x123\n"
    "[  417.788820][    C1]  el1_interrupt+0x123/0x123\n"
    "[  417.789988][    C1]  el1h_64_irq_handler+0x123/0x123\n"
    "[  417.791312][    C1]  el1h_64_irq+0x123/0x123\n"
    "[  417.792422][    C1]  lock_acquire+0x123/0x123\n"
    "[  417.793620][    C1]  _raw_spin_lock_bh+0x123/0x123\n"
    "[  417.794925][    C1]  sk_msg_recvmsg+0x123/0x123\n"
    "[  417.796127][    C1]  tcp_bpf_recvmsg_parser+0x123/0x123\n"
    "[  417.797490][    C1]  inet_recvmsg+0x123/0x123\n"
    "[  417.798695][    C1]  ____sys_recvmsg+0x123/0x123\n"
    "[  417.799947][    C1]  do_recvmmsg+0x123/0x123\n"
    "[  417.801142][    C1]  __arm64_sys_recvmmsg+0x123/0x123\n"
    "[  417.802546][    C1]  invoke_syscall+0x123/0x123\n"
    "[  417.803758][    C1]  el0_svc_common+0x123/0x123\n"
    "[  417.804977][    C1]  do_el0_svc+0x123/0x123\n"
    "[  417.806112][    C1]  el0_svc+0x123/0x123\n"
    "[  417.807175][    C1]  el0t_64_sync_handler+0x123/0x123\n"
    "[  417.808519][    C1]  el0t_64_sync+0x123/0x123\n"
)


def test_arm64s_call_trace_spelling_goes_on_a_stall_report() -> None:
    # arch/arm64/kernel/stacktrace.c dump_backtrace(): "Call trace:"; kernel/sched
    # dump_cpu_task(): "Task dump for CPU n:" and the task's line before each stack
    report = _only_report(STALL_SELF_DETECTED_ARM64)
    assert not report.corrupted


def test_an_arm64_stall_is_read_below_el1h_64_irq_in_any_stack_of_the_report() -> None:
    # syzkaller's second stall part "(?:apic_timer_interrupt|Exception stack|el1h_64_irq)"
    # is searched in the whole report: the stalled CPU's is the second task dump
    report = _only_report(STALL_SELF_DETECTED_ARM64)
    assert report.title == "INFO: rcu detected stall in sys_recvmmsg"


# syzkaller pkg/report/testdata/linux/report/694, console lines 2-3 and 34-76 without "? "
# frames (the interleaved panic of another task left out)
KASAN_IN_QUEUEING_WORK = (
    "[  771.746713][T15335] BUG: KASAN: out-of-bounds in stack_trace_consume_entry+0x141/0x160\n"
    "[  771.751900][T15335] Write of size 8 at addr ffffc90002f7f910 by task kworker/0:1/15335\n"
    "[  771.780070][T15335] Workqueue: events nsim_dev_trap_report_work\n"
    "[  771.786122][T15335] Call Trace:\n"
    "[  771.788163][T15335]  <TASK>\n"
    "[  771.791926][T15335]  dump_stack_lvl+0xd9/0x150\n"
    "[  771.794831][T15335]  print_address_description.constprop.0+0x2c/0x3c0\n"
    "[  771.801729][T15335]  kasan_report+0x11c/0x130\n"
    "[  771.812087][T15335]  stack_trace_consume_entry+0x141/0x160\n"
    "[  771.821918][T15335]  arch_stack_walk+0x71/0xf0\n"
    "[  771.829100][T15335]  stack_trace_save+0x90/0xc0\n"
    "[  771.842065][T15335]  kasan_save_stack+0x22/0x40\n"
    "[  771.898660][T15335]  __kasan_record_aux_stack+0x7b/0x90\n"
    "[  771.902334][T15335]  insert_work+0x48/0x350\n"
    "[  771.907321][T15335]  __queue_work+0x625/0x1120\n"
    "[  771.911888][T15335]  __queue_delayed_work+0x1c8/0x270\n"
    "[  771.916104][T15335]  queue_delayed_work_on+0x109/0x120\n"
    "[  771.920013][T15335]  nsim_dev_trap_report_work+0x9d1/0xc80\n"
    "[  771.935911][T15335]  process_one_work+0x991/0x15c0\n"
)


def test_the_workqueues_queueing_functions_are_passed_over() -> None:
    # syzkaller's skip list has "queue_work" unanchored: __queue_work, queue_work_on;
    # the stack-saving helpers under it (insert_work, stack_trace_save) are passed too
    report = _only_report(KASAN_IN_QUEUEING_WORK)
    assert report.title == "KASAN: out-of-bounds Write in nsim_dev_trap_report_work"


def test_busy_inodes_after_unmount_is_titled_as_a_use_after_free() -> None:
    # syzkaller pkg/report/testdata/linux/report/684, its one console line: fs/super.c
    # generic_shutdown_super()'s message (there with its format string unexpanded)
    text = "VFS: Busy inodes after unmount of %s. Self-destruct in 5 seconds.  Have a nice day...\n"
    report = _only_report(text)
    assert report.title == "VFS: Busy inodes after unmount (use-after-free)"


# syzkaller pkg/report/testdata/linux/report/724, console lines 2-4 (the banner cut)
DECOMPRESSOR_THEN_BANNER = (
    "Decompressing Linux... Parsing ELF... Performing relocations... done.\n"
    "Booting the kernel (entry_offset: 0x0000000000000000).\n"
    "[    0.000000] Linux version 6.8.0 (dvyukov@dvyukov-glaptop2) (gcc (Debian 13.2.0-10)"
    " 13.2.0, GNU ld (GNU Binutils for Debian) 2.41.90.20240122) #1 SMP\n"
)


def test_the_decompressors_first_line_starts_the_boot_it_announces() -> None:
    # arch/x86/boot/compressed/misc.c extract_kernel(): "Decompressing Linux... " comes
    # before "Booting the kernel": one boot, no earlier output, nothing to report
    assert parse_text(DECOMPRESSOR_THEN_BANNER) == []
    rebooted = parse_text("[   12.000000] syz-executor: started\n" + DECOMPRESSOR_THEN_BANNER)
    assert [r.title for r in rebooted] == ["unexpected kernel reboot"]


# syzkaller pkg/report/testdata/linux/report/718, console lines 1-105 without the
# registers and the "? " frames
STALL_WITH_ONLY_THE_GP_KTHREADS_CPU = (
    "[  146.893110][    C1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n"
    "[  146.894767][    C1] rcu: \t(detected by 1, t=10002 jiffies, g=4241, q=1639"
    " ncpus=2)\n"
    "[  146.896637][    C1] rcu: All QSes seen, last rcu_preempt kthread activity 9998"
    " (4294951926-4294941928), jiffies_till_next_fqs=1, root ->qsmask 0x0\n"
    "[  146.901144][    C1] rcu: rcu_preempt kthread starved for 9998 jiffies! g4241 f0x2"
    " RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=0\n"
    "[  146.903974][    C1] rcu: \tUnless rcu_preempt kthread gets sufficient CPU time,"
    " OOM is now expected behavior.\n"
    "[  146.906067][    C1] rcu: RCU grace-period kthread stack dump:\n"
    "[  146.907296][    C1] task:rcu_preempt     state:R  running task     stack:26920"
    " pid:17    tgid:17    ppid:2      flags:0x00004000\n"
    "[  146.909742][    C1] Call Trace:\n"
    "[  146.910457][    C1]  <TASK>\n"
    "[  146.911086][    C1]  __schedule+0x1335/0x44b0\n"
    "[  146.916411][    C1]  schedule+0xc9/0x240\n"
    "[  146.917276][    C1]  schedule_timeout+0x1ad/0x3c0\n"
    "[  146.923320][    C1]  rcu_gp_fqs_loop+0x2da/0x1200\n"
    "[  146.927740][    C1]  rcu_gp_kthread+0xa4/0x3a0\n"
    "[  146.931993][    C1]  kthread+0x2d8/0x370\n"
    "[  146.934956][    C1]  ret_from_fork+0x56/0x90\n"
    "[  146.936867][    C1]  ret_from_fork_asm+0x1a/0x30\n"
    "[  146.937875][    C1]  </TASK>\n"
    "[  146.938518][    C1] rcu: Stack dump where RCU GP kthread last ran:\n"
    "[  146.939867][    C1] Sending NMI from CPU 1 to CPUs 0:\n"
    "[  146.941062][    C0] NMI backtrace for cpu 0\n"
    "[  146.941087][    C0] CPU: 0 PID: 5599 Comm: syz.0.104 Not tainted"
    " 6.10.0-rc5-00257-g88d8f64b9f5f-dirty #20\n"
    "[  146.941108][    C0] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS"
    " 1.16.3-debian-1.16.3-2 04/01/2014\n"
    "[  146.941321][    C0] Call Trace:\n"
    "[  146.941326][    C0]  <NMI>\n"
    "[  146.941615][    C0]  </NMI>\n"
    "[  146.941620][    C0]  <TASK>\n"
    "[  146.941626][    C0]  timerqueue_add+0x24d/0x280\n"
    "[  146.941649][    C0]  enqueue_hrtimer+0x11c/0x300\n"
    "[  146.941667][    C0]  hrtimer_start_range_ns+0x9e9/0xbb0\n"
    "[  146.941695][    C0]  common_hrtimer_rearm+0x100/0x110\n"
    "[  146.941718][    C0]  posixtimer_rearm+0x19c/0x3f0\n"
    "[  146.941808][    C0]  dequeue_signal+0x23f/0x5b0\n"
    "[  146.941943][    C0]  get_signal+0x532/0x1650\n"
    "[  146.941983][    C0]  arch_do_signal_or_restart+0x96/0x840\n"
    "[  146.942058][    C0]  syscall_exit_to_user_mode+0x66/0x240\n"
    "[  146.942077][    C0]  do_syscall_64+0xf0/0x230\n"
    "[  146.942120][    C0]  entry_SYSCALL_64_after_hwframe+0x77/0x7f\n"
    "[  146.942248][    C0]  </TASK>\n"
)


def test_a_stall_whose_stack_names_no_frame_is_corrupted() -> None:
    # syzkaller's extractDescription: a format with a stack that yields no frame is
    # "extracted no stack frame", titled "... in corrupted"; here every CPU passed its
    # quiescent state and only the starved grace-period kthread's CPU was dumped
    report = _only_report(STALL_WITH_ONLY_THE_GP_KTHREADS_CPU)
    assert report.title == "INFO: rcu detected stall in corrupted"
    assert report.corrupted


# -- symbolized reports, as people paste them (issue 24) -------------------------------

# syzbot, "[syzbot] [net?] KASAN: slab-use-after-free Read in fib6_add", May 2025
# (6.15.0-rc4), the report's header and the top of its stack: syzbot's symbolizer
# repeats the header line for the inlined callee, and marks inlined frames "[inline]".
SYZBOT_INLINED_KASAN = (
    "==================================================================\n"
    "BUG: KASAN: slab-use-after-free in fib6_add_rt2node net/ipv6/ip6_fib.c:1102 [inline]\n"
    "BUG: KASAN: slab-use-after-free in fib6_add+0x3ced/0x4b60 net/ipv6/ip6_fib.c:1488\n"
    "Read of size 4 at addr ffff88804f774090 by task syz.5.2065/11622\n"
    "\n"
    "CPU: 3 UID: 0 PID: 11622 Comm: syz.5.2065 Not tainted "
    "6.15.0-rc4-syzkaller-00147-gebd297a2affa #0 PREEMPT(full) \n"
    "Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-debian-1.16.3-2~bpo12+1 "
    "04/01/2014\n"
    "Call Trace:\n"
    " <TASK>\n"
    " __dump_stack lib/dump_stack.c:94 [inline]\n"
    " dump_stack_lvl+0x116/0x1f0 lib/dump_stack.c:120\n"
    " print_address_description mm/kasan/report.c:408 [inline]\n"
    " print_report+0xc3/0x670 mm/kasan/report.c:521\n"
    " kasan_report+0xe0/0x110 mm/kasan/report.c:634\n"
    " fib6_add_rt2node net/ipv6/ip6_fib.c:1102 [inline]\n"
    " fib6_add+0x3ced/0x4b60 net/ipv6/ip6_fib.c:1488\n"
    " __ip6_ins_rt net/ipv6/route.c:1351 [inline]\n"
    " ip6_route_add+0x8d/0x1c0 net/ipv6/route.c:3900\n"
    " addrconf_add_mroute+0x1dd/0x350 net/ipv6/addrconf.c:2551\n"
    " addrconf_add_dev+0x14e/0x1c0 net/ipv6/addrconf.c:2569\n"
)


def test_a_header_repeated_for_an_inlined_callee_is_one_report_named_as_syzbot_does() -> None:
    (report,) = parse_text(SYZBOT_INLINED_KASAN)
    assert report.title == "KASAN: slab-use-after-free Read in fib6_add"
    assert report.function == "fib6_add" and report.comm == "syz.5.2065"
    # the inlined frames are frames of the report, marked so, and never its guilty one
    inlined = [f.function for f in report.frames if f.inline]
    assert inlined == [
        "__dump_stack",
        "print_address_description",
        "fib6_add_rt2node",
        "__ip6_ins_rt",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "warn-on",
        "gpf",
        "rcu-stall",
        "hung-task",
        # the debug guest's detectors
        "kasan-uaf",
        "kasan-double-free",
        "ubsan-shift",
        "ubsan-index",
        "lockdep-circular",
        "might-sleep",
        "rcu-suspicious",
        "kmemleak",
    ],
)
def test_a_capture_symbolized_by_decode_stacktrace_reads_as_the_raw_one(name: str) -> None:
    raw = parse_file(CORPUS / f"{name}.log")
    decoded = parse_file(CORPUS / f"{name}-decoded.log")
    assert [(r.title, r.function, r.module, r.corrupted) for r in decoded] == [
        (r.title, r.function, r.module, r.corrupted) for r in raw
    ]
    # its frames are the functions, with their file:line, and none of them inlined
    frames = [f for r in decoded for f in r.frames]
    assert frames and all(f.source and not f.inline for f in frames)


# syzbot, "[syzbot] [usb?] KASAN: invalid-free in dev_free (3)", March 2026 (linux-next
# 20260320): the kernel prints "double-free", syzbot titles every free bug "invalid-free"
SYZBOT_DOUBLE_FREE = (
    "==================================================================\n"
    "BUG: KASAN: double-free in dev_free+0x424/0x740 "
    "drivers/usb/gadget/legacy/raw_gadget.c:226\n"
    "Free of addr ffff888049a1c7e0 by task syz.8.3380/23768\n"
    "\n"
    "CPU: 1 UID: 0 PID: 23768 Comm: syz.8.3380 Tainted: G             L      syzkaller #0 "
    "PREEMPT(full) \n"
    "Tainted: [L]=SOFTLOCKUP\n"
    "Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 02/12/2026\n"
    "Call Trace:\n"
    " <TASK>\n"
    " dump_stack_lvl+0xe8/0x150 lib/dump_stack.c:120\n"
    " print_address_description+0x55/0x1e0 mm/kasan/report.c:378\n"
    " print_report+0x58/0x70 mm/kasan/report.c:482\n"
    " kasan_report_invalid_free+0xea/0x110 mm/kasan/report.c:557\n"
    " check_slab_allocation mm/kasan/common.c:-1 [inline]\n"
    " __kasan_slab_pre_free+0x104/0x120 mm/kasan/common.c:261\n"
    " kasan_slab_pre_free include/linux/kasan.h:199 [inline]\n"
    " slab_free_hook mm/slub.c:2634 [inline]\n"
    " slab_free mm/slub.c:6242 [inline]\n"
    " kfree+0x173/0x640 mm/slub.c:6557\n"
    " dev_free+0x424/0x740 drivers/usb/gadget/legacy/raw_gadget.c:226\n"
    " kref_put include/linux/kref.h:65 [inline]\n"
    " raw_release+0x199/0x260 drivers/usb/gadget/legacy/raw_gadget.c:474\n"
)


def test_a_kasan_double_free_is_titled_invalid_free_as_syzbot_does() -> None:
    (report,) = parse_text(SYZBOT_DOUBLE_FREE)
    assert report.title == "KASAN: invalid-free in dev_free"
    assert report.function == "dev_free"


# syzbot, "[syzbot] [net?] WARNING in neigh_parms_release", May 2025 (arm, 6.15.0-rc5):
# arm's "(f) from (g ...)" lines, symbolized, name inlined callers as "(g file.c:12 [inline])"
SYZBOT_ARM_INLINED_CALLER = (
    "------------[ cut here ]------------\n"
    "WARNING: CPU: 1 PID: 22523 at lib/ref_tracker.c:228 ref_tracker_free+0x190/0x298 "
    "lib/ref_tracker.c:228\n"
    "Modules linked in:\n"
    "CPU: 1 UID: 0 PID: 22523 Comm: kworker/u8:3 Not tainted 6.15.0-rc5-syzkaller #0 PREEMPT \n"
    "Hardware name: ARM-Versatile Express\n"
    "Workqueue: netns cleanup_net\n"
    "Call trace: \n"
    "[<80261acc>] (__warn) from [<80261dcc>] (warn_slowpath_fmt+0x178/0x1f4 kernel/panic.c:776)\n"
    " r8:00000009 r7:822b2274 r6:e06e9b54 r5:84151800 r4:00000000\n"
    "[<80261c58>] (warn_slowpath_fmt) from [<809673f4>] (ref_tracker_free+0x190/0x298 "
    "lib/ref_tracker.c:228)\n"
    " r10:00000000 r9:84a31b00 r8:84f63c00 r7:00000000 r6:00000000 r5:854c5988\n"
    " r4:84ce19cc\n"
    "[<80967264>] (ref_tracker_free) from [<8155d35c>] (netdev_tracker_free "
    "include/linux/netdevice.h:4351 [inline])\n"
    "[<80967264>] (ref_tracker_free) from [<8155d35c>] (netdev_put "
    "include/linux/netdevice.h:4368 [inline])\n"
    "[<80967264>] (ref_tracker_free) from [<8155d35c>] (netdev_put "
    "include/linux/netdevice.h:4364 [inline])\n"
    "[<80967264>] (ref_tracker_free) from [<8155d35c>] (neigh_parms_release+0x7c/0xc4 "
    "net/core/neighbour.c:1709)\n"
    " r8:84f63c00 r7:00000000 r6:00000000 r5:84ce1680 r4:854c5980\n"
    "[<8155d2e0>] (neigh_parms_release) from [<81804d0c>] (addrconf_ifdown+0x6ac/0x764 "
    "net/ipv6/addrconf.c:4008)\n"
)


def test_an_arm_line_whose_caller_is_an_inlined_callee_names_no_frame_for_it() -> None:
    (report,) = parse_text(SYZBOT_ARM_INLINED_CALLER)
    assert report.title == "WARNING in neigh_parms_release"


# syzbot, "[syzbot] [mm?] KASAN: slab-use-after-free Read in __list_lru_walk_one", Aug
# 2024 (6.11.0-rc2): syzkaller passes over list_add, list_del... but not every "__list_"
SYZBOT_LIST_LRU = (
    "==================================================================\n"
    "BUG: KASAN: slab-use-after-free in __list_lru_walk_one+0x1b7/0x660\n"
    "Read of size 8 at addr ffff888051336078 by task syz.1.120/6419\n"
    "\n"
    "CPU: 0 UID: 0 PID: 6419 Comm: syz.1.120 Not tainted "
    "6.11.0-rc2-syzkaller-00011-geb5e56d14912 #0\n"
    "Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 06/27/2024\n"
    "Call Trace:\n"
    " <TASK>\n"
    " __dump_stack lib/dump_stack.c:93 [inline]\n"
    " dump_stack_lvl+0x241/0x360 lib/dump_stack.c:119\n"
    " print_address_description mm/kasan/report.c:377 [inline]\n"
    " print_report+0x169/0x550 mm/kasan/report.c:488\n"
    " kasan_report+0x143/0x180 mm/kasan/report.c:601\n"
    " __list_lru_walk_one+0x1b7/0x660\n"
    " list_lru_walk_one+0xa6/0xe0 mm/list_lru.c:266\n"
    " list_lru_shrink_walk include/linux/list_lru.h:228 [inline]\n"
    " gfs2_qd_shrink_scan+0x16b/0x360 fs/gfs2/quota.c:182\n"
)


def test_a_list_lru_function_is_not_list_debugging() -> None:
    (report,) = parse_text(SYZBOT_LIST_LRU)
    assert report.title == "KASAN: slab-use-after-free Read in __list_lru_walk_one"


# lockdep-circular.log and lockdep-circular-decoded.log (the debug guest, symbolized by its
# tree's scripts/decode_stacktrace.sh): the report's first lines, up to the dependency chain
LOCKDEP_AT_SITES = (
    "[   29.468136] WARNING: possible circular locking dependency detected\n"
    "[   29.468500] 6.1.192-guestdbg-debug #1 Tainted: G           O      \n"
    "[   29.469834] ------------------------------------------------------\n"
    "[   29.469834] sh/49 is trying to acquire lock:\n"
    "[   29.469834] ffffffffa0003368 (guestdbg_mutex_a){+.+.}-{3:3}, at: "
    "trigger_set+0x5a0/0x769 [guestdbg_test]\n"
    "[   29.469834] \n"
    "[   29.469834] but task is already holding lock:\n"
    "[   29.469834] ffffffffa00032a8 (guestdbg_mutex_b){+.+.}-{3:3}, at: "
    "trigger_set+0x592/0x769 [guestdbg_test]\n"
    "[   29.469834] \n"
    "[   29.469834] which lock already depends on the new lock.\n"
)
LOCKDEP_AT_SITES_DECODED = (
    "[   29.468136] WARNING: possible circular locking dependency detected\n"
    "[   29.468500] 6.1.192-guestdbg-debug #1 Tainted: G           O\n"
    "[   29.469834] ------------------------------------------------------\n"
    "[   29.469834] sh/49 is trying to acquire lock:\n"
    "[   29.469834] ffffffffa0003368 (guestdbg_mutex_a){+.+.}-{3:3}, at: "
    "trigger_set (guestdbg_test.c:267) guestdbg_test\n"
    "[   29.469834]\n"
    "[   29.469834] but task is already holding lock:\n"
    "[   29.469834] ffffffffa00032a8 (guestdbg_mutex_b){+.+.}-{3:3}, at: "
    "trigger_set (guestdbg_test.c:266) guestdbg_test\n"
    "[   29.469834]\n"
    "[   29.469834] which lock already depends on the new lock.\n"
)


@pytest.mark.parametrize("text", [LOCKDEP_AT_SITES, LOCKDEP_AT_SITES_DECODED])
def test_lockdep_names_its_at_site_raw_or_as_decode_stacktrace_prints_it(text: str) -> None:
    # syzkaller's first stack parts for this header are the two "at:" sites
    (report,) = parse_text(text)
    assert report.title == "possible deadlock in trigger_set"
    assert (report.function, report.module) == ("trigger_set", "guestdbg_test")


# might-sleep-decoded.log (the debug guest, symbolized by its tree's decode_stacktrace.sh):
# the report up to its call trace's first frames; the held locks' lines lost their
# indentation (the script prints a line with a symbol as its words joined by spaces)
MIGHT_SLEEP_DECODED = (
    "[   31.219326] BUG: sleeping function called from invalid context at "
    "kernel/locking/mutex.c:580\n"
    "[   31.227785] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 50, name: sh\n"
    "[   31.230439] preempt_count: 1, expected: 0\n"
    "[   31.231398] 5 locks held by sh/50:\n"
    "[   31.236095] #0: ffff888003b3a430 (sb_writers#5){.+.+}-{0:0}, at: vfs_write "
    "(fs/read_write.c:581) \n"
    "[   31.243956] #1: ffff888004bbc088 (&of->mutex){+.+.}-{3:3}, at: kernfs_fop_write_iter "
    "(fs/kernfs/file.c:344) \n"
    "[   31.245591] #2: ffff888000c64e88 (kn->active){.+.+}-{0:0}, at: kernfs_get_active_of "
    "(fs/kernfs/file.c:80) \n"
    "[   31.250779] #3: ffffffffa00048d0 (&mod->param_lock){+.+.}-{3:3}, at: param_attr_store "
    "(kernel/params.c:593) \n"
    "[   31.258457] #4: ffffffffa00031f8 (guestdbg_spinlock){+.+.}-{2:2}, at: trigger_set "
    "(guestdbg_test.c:271) guestdbg_test\n"
    "[   31.265809] CPU: 1 PID: 50 Comm: sh Tainted: G           O       "
    "6.1.192-guestdbg-debug #1\n"
    "[   31.266734] Call Trace:\n"
    "[   31.268780]  <TASK>\n"
    "[   31.268780] dump_stack_lvl (lib/dump_stack.c:110 (discriminator 4)) \n"
    "[   31.268780] __might_resched (kernel/sched/core.c:10022) \n"
    "[   31.268780] ? rcu_preempt_sleep_check (kernel/sched/core.c:9976) \n"
    "[   31.268780] ? console_emit_next_record.constprop.0 (kernel/printk/printk.c:2879) \n"
    "[   31.268780] ? __might_sleep (kernel/sched/core.c:9938) \n"
    "[   31.268780] __mutex_lock (kernel/locking/mutex.c:582 kernel/locking/mutex.c:747) \n"
    "[   31.268780] ? trigger_set (guestdbg_test.c:271) guestdbg_test\n"
    "[   31.268780] ? trigger_set (guestdbg_test.c:272) guestdbg_test\n"
    "[   31.268780] trigger_set (guestdbg_test.c:272) guestdbg_test\n"
    "[   31.268780] param_attr_store (kernel/params.c:597) \n"
    "[   31.268780]  </TASK>\n"
)


def test_held_locks_printed_by_decode_stacktrace_are_the_reports_own_lines() -> None:
    (report,) = parse_text(MIGHT_SLEEP_DECODED)
    assert report.title == "BUG: sleeping function called from invalid context in trigger_set"
    assert not report.corrupted, report.corrupted_reason


# syzbot's "inconsistent lock state in igrab" (Feb 2026), as its email prints it:
# decode_stacktrace.sh split lockdep's one "at:" site into its inlined spin_lock
# and the function that took the lock, two "at:" lines for one site
INCONSISTENT_LOCK_STATE_SPLIT_AT = (
    "================================\n"
    "WARNING: inconsistent lock state\n"
    "syzkaller #0 Tainted: G             L     \n"
    "--------------------------------\n"
    "inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.\n"
    "kworker/u8:12/11736 [HC0[0]:SC1[1]:HE1:SE0] takes:\n"
    "ffff88807fafd500 (&sb->s_type->i_lock_key#50){+.?.}-{3:3}, at: "
    "spin_lock include/linux/spinlock.h:351 [inline]\n"
    "ffff88807fafd500 (&sb->s_type->i_lock_key#50){+.?.}-{3:3}, at: "
    "igrab+0x2a/0x230 fs/inode.c:1574\n"
)


def test_an_inconsistent_lock_state_names_the_function_under_its_inlined_lock_site() -> None:
    # syzkaller's first stack part for this header is the "takes:" lock's "at:"
    # site, whose inlined frames (spin_lock, [inline]) are passed over
    (report,) = parse_text(INCONSISTENT_LOCK_STATE_SPLIT_AT)
    assert (report.kind, report.title) == ("LOCKDEP", "inconsistent lock state in igrab")
    assert report.function == "igrab"


# syzbot's "BUG: stack guard page was hit in sys_open" (Nov 2024, 6.12-rc6) and
# "... in sys_bpf" (Jun 2022, 5.19-rc1), as their emails print them (public
# mailing-list archives), cut after the trace; the recursion's repeated group of
# frames is kept once (it repeats dozens of times). Their die() lines differ:
# 6.12's "Oops: stack guard page: 0000 [#1]", 5.19's (and 6.1's) without "Oops: ".
SYZBOT = Path(__file__).parent.parent / "fixtures" / "syzbot"


@pytest.mark.parametrize(
    ("name", "function"),
    [("stack-guard-sys_open-6.12.log", "sys_open"), ("stack-guard-sys_bpf-5.19.log", "sys_bpf")],
)
def test_a_stack_overflow_is_named_by_the_syscall_the_recursion_ran_under(
    name: str, function: str
) -> None:
    # syzkaller reads this report from the RIP line down with its stall
    # extractor: the frame above the first dispatching one (do_syscall_64)
    # names it, not the lockdep or allocator frame that ran out of stack. The
    # die() line under the header is part of the report, not other output.
    (report,) = parse_text((SYZBOT / name).read_text())
    assert report.title == f"BUG: stack guard page was hit in {function}"
    assert report.function == function
    assert not report.corrupted, report.corrupted_reason
