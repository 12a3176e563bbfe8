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
    assert (r.cpu, r.comm, r.taint, r.release) == (0, "sh", "O", "6.1.192-guestdbg")
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
    assert r.location == "guestdbg_test.c:134"


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
    assert "NMI backtrace for cpu" in r.raw and "RCU grace-period kthread stack dump" in r.raw
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
    assert "<TASK> trigger_set+0xb0/0x319 [guestdbg_test]" in done.stdout
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
