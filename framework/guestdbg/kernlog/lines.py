"""One console line at a time: cleaning (``\\r``, NUL, ANSI escapes, the
printk timestamp and caller id, syslog prefixes) and classification into a
:class:`LineType` (header, frame, register, context marker, ...).

Formats of frames handled: x86 (``func+0x1/0x2 [mod]``, ``[<addr>] func+...``,
``? func+...`` guesses, syzkaller's ``file.c:12`` and ``[inline]`` lines),
arm64 (``func+0x1/0x2 (T)``), 32-bit arm (``[<addr>] (func) from [<addr>]
(caller+0x1/0x2)``), powerpc (``[addr] [addr] func+0x1/0x2 (unreliable)``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

FUNC = r"(?P<function>[A-Za-z_.$][\w.$]*)"
OFFSETS = r"\+0x[0-9a-f]+/0x[0-9a-f]+"


class LineType(enum.Enum):
    HEADER = "header"  # starts a report (see formats.FORMATS)
    END = "end"  # ---[ end trace ... ]---, ---[ end Kernel panic ... ]---
    CUT = "cut"  # ------------[ cut here ]------------
    CALLTRACE = "calltrace"  # Call Trace:, Backtrace:, backtrace:
    SECTION = "section"  # a secondary stack: Allocated by task N:, Freed by ...
    MARKER = "marker"  # <IRQ>, </TASK>, <EOI>, <#DB> ...
    FRAME = "frame"  # one call-trace line
    REGS = "regs"  # RIP:, RAX: ..., Code:, pc :, PC is at ...
    CPULINE = "cpuline"  # CPU: 0 PID: 1 Comm: sh Not tainted 6.1 #1
    MODULES = "modules"  # Modules linked in: ...
    INFO = "info"  # lines of any report: Hardware name:, Workqueue: ...
    SEP = "sep"  # ===== (KASAN, UBSAN, lockdep)
    RESET = "reset"  # a new boot
    TEXT = "text"
    BLANK = "blank"


@dataclass
class Line:
    no: int
    raw: str
    text: str
    ts: float | None
    caller: str | None


_NOISE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00\r\x07]")
_GLUED = re.compile(
    r"(?:\*\* \d+ printk messages dropped \*\* ?)?"  # printk lost lines, glued
    r"(?:\S*\s*login: )?"  # a login prompt the kernel printed over
)
_PREFIX = re.compile(
    r"(?:<\d+>)?"  # console loglevel (dmesg -r)
    r"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: )?"  # syslog, journalctl -k
    r"(?:\[(?P<ts>\s*\d+\.\d+)\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}\])?"
    r"(?:\[\s*(?P<caller>[CT]\d+)\])?"
)


def clean(no: int, raw: str) -> Line:
    """A console line without its noise and prefixes (timestamp, caller id)."""
    text = (
        _NOISE.sub("", raw)
        if ("\x1b" in raw or "\x00" in raw or "\r" in raw or "\x07" in raw)
        else raw
    )
    ts: float | None = None
    caller: str | None = None
    start = 0
    if text.startswith("*") or "login: " in text:
        g = _GLUED.match(text)
        start = g.end() if g else 0
    m = _PREFIX.match(text, start)
    if m and m.end() > start:
        if m.group("ts"):
            ts = float(m.group("ts"))
        caller = m.group("caller")
        text = text[m.end() :]
        if text.startswith(" "):
            text = text[1:]
    if text.startswith("kmemleak: "):
        # mm/kmemleak.c prints its reports with pr_warn() under pr_fmt "kmemleak: ":
        # without the prefix its lines read as the /sys/kernel/debug/kmemleak form
        text = text[10:]
    return Line(no, raw, text, ts, caller)


CUT_RE = re.compile(r"^-+\[ cut here \]-+\s*$")
END_RE = re.compile(r"^---\[ end (?:trace|Kernel panic)\b")
SEPARATOR_RE = re.compile(r"^(?:={20,}|-{20,})\s*$")
_CALLTRACE = re.compile(
    r"^\s*(?:Call Trace|Call trace|Backtrace|backtrace(?: \(crc [0-9a-f]+\))?|"
    r"Stack trace|Exception stack)\s*:?\s*$|^\s*Call Trace:"
)
_SECTION = re.compile(
    r"^(?:Allocated by task \d+|Freed by task \d+|Last potentially related work creation|"
    r"Second to last potentially related|Uninit was (?:created|stored to memory|stored) at|"
    r"Local variable .* created at|Memory state around the buggy address|"
    r"The buggy address belongs to|allocated by task \d+|freed by task \d+|"
    r"\{[A-Z-]+\} state was registered at|-> #\d+ |other info that might help us debug this|"
    r"\s*\*\*\* DEADLOCK \*\*\*|the existing dependency chain|but task is already holding lock|"
    r"which lock already depends on the new lock|(?:rcu: )?RCU grace-period kthread stack dump:|"
    # mm/page_owner.c __dump_page_owner(): the page's allocation and free stacks
    r"page last allocated via |page last free (?:pid \d+ tgid \d+ )?stack trace:|"
    # kernel/locking/lockdep.c print_bad_irq_dependency(): where each lock became irq-safe
    # and irq-unsafe
    r"\.\.\. which became \S+ at:)"
)
_MARKER = re.compile(
    r"^\s*<(?P<close>/?)(?P<name>IRQ|NMI|TASK|SOFTIRQ|EOI|EOE|#[A-Z]{2})>\s*(?P<rest>.*)$"
)
FRAME_RE = re.compile(
    r"^\s*(?:\[<?(?:0x)?(?:[0-9a-f]+|\(____ptrval____\))>?\]\s+){0,2}(?P<q>\?\s+)?"
    r"(?:\[<[0-9a-f]+>\]\s+)?"
    r"(?:\d+:)?(?P<func>[A-Za-z_.$][\w.$]*)\+0x(?P<off>[0-9a-f]+)/0x(?P<size>[0-9a-f]+)"
    r"(?:\s+\[(?P<mod>[\w-]+)\])?(?:\s+(?P<src>\S+:\d+))?(?P<inline>\s+\[inline\])?"
    r"(?:\s+\((?:T|C\d*|unreliable)\))?\s*(?:\(.*\))?\s*$"
)
_ARM_FRAME = re.compile(
    r"^\s*\[<[0-9a-f]+>\]\s+\((?P<func>[A-Za-z_.$][\w.$]*)(?:\+0x(?P<off>[0-9a-f]+)/"
    r"0x(?P<size>[0-9a-f]+))?(?:\s+\[(?P<mod>[\w-]+)\])?\)\s+from\s+"
    # the caller, which the next line repeats, except on the last line (syzkaller reads
    # both: the bottom frame, often the exception entry, is printed only there)
    r"(?:\[<[0-9a-f]+>\]\s+\((?P<caller>[A-Za-z_.$][\w.$]*)"
    # a symbolizer's inlined callee ("(f file.c:12 [inline])"): not a frame to
    # syzkaller, whose arm frame regex needs "+" or "." after the caller's name
    r"(?P<caller_inline>\s+\S+:\d+\s+\[inline\])?)?"
)
_INLINE_FRAME = re.compile(
    r"^\s*(?P<func>[A-Za-z_.$][\w.$]*)\s+(?P<src>\S+:\d+)(?P<inline>\s+\[inline\])\s*$"
)
# What scripts/decode_stacktrace.sh makes of "f+0x12/0x34 [mod]": "f (file.c:12) mod", the
# offsets replaced by addr2line -i's locations (the inlined callees' first, then f's own
# line, "(discriminator N)" after some), the module without brackets. Its f is the
# function the address is in: inlined callees get no frame of their own.
DECODED = r" \((?P<src>[^\s()]+:\d+)(?:[^()]|\([^()]*\))*\)"
_DECODED_FRAME = re.compile(
    r"^\s*(?P<q>\?\s+)?(?P<func>[A-Za-z_.$][\w.$]*)"
    r"(?:\+0x(?P<off>[0-9a-f]+)/0x(?P<size>[0-9a-f]+))?(?P<decoded>"
    + DECODED
    + r")(?: (?P<mod>[\w-]+))?\s*$"
)
# scripts/decodecode's disassembly of a Code: line, which decode_stacktrace.sh prints
# below it: its two titles and their underlines, and one line per instruction
_DECODECODE = re.compile(
    r"^(?:All code|={8}|Code starting with the faulting instruction|={43}|"
    r"\s*[0-9a-f]+:\*?\t.*|\s*\.\.\.)\s*$"
)
_ADDR_FRAME = re.compile(r"^\s*(?P<q>\?\s+)?0x[0-9a-f]+\s*$")
_REGS = re.compile(
    r"^(?:[RE]?IP|[RE](?:SP|AX|BX|CX|DX|SI|DI|BP)|R\d{1,2}|[CDEFGS]S|CR\d|DR\d|PKRU|Code|"
    r"pc |lr |sp |x\d+ |PC is at|LR is at|pstate|epc |ra |NIP |LR |"
    # riscv __show_regs() (arch/riscv/kernel/process.c): " ra : f", " gp : 0x..", "status:"
    r"\s(?:ra|gp|tp|t[0-6]|s[0-9]|s1[01]|a[0-7]) ?: |status: [0-9a-f]+ badaddr|"
    # powerpc's trap site in a trace (arch/powerpc/kernel/process.c show_stack()):
    # "--- interrupt: 700 at assert_slb_presence+0x2c/0x70"
    r"--- interrupt: [0-9a-f]+ at |"
    # arm __show_regs() (arch/arm/kernel/process.c): "r10: %08lx", "r7 : %08lx",
    # "Flags: nZCv  IRQs off ...", "Control: %08x  Table: ..."
    r"r\d{1,2} ?: [0-9a-f]{8}|Flags: [nN][zZ][cC][vV] |Control: [0-9a-f]+)\s*:?"
)
RIP_FUNC = re.compile(
    r"^(?:[RE]?IP|pc |PC is at|epc |NIP |ra |--- interrupt: [0-9a-f]+ at )"
    r":?\s*(?:[0-9a-f]{4}:)?(?:\[<[0-9a-f]+>\]\s+)*"
    + FUNC
    + r"(?:\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[(?P<module>[\w-]+)\])?"
    # decode_stacktrace.sh's "f (file.c:12) mod"
    + r"|"
    + DECODED.replace("?P<src>", "")
    + r"(?: (?P<decoded_module>[\w-]+))?)"
)
CPU_RE = re.compile(
    r"^CPU: (?P<cpu>\d+):? (?:UID: \d+ )?PID: (?P<pid>\d+),? Comm: (?P<comm>.*?) "
    r"(?:Not tainted|Tainted: (?P<taint>[A-Z ]*?)) *(?P<release>[^\s#]+) #"
)
OLD_PID_RE = re.compile(
    r"^Pid: (?P<pid>\d+), comm: (?P<comm>\S+) (?:Not tainted|Tainted: (?P<taint>[A-Z ]*?)) *"
    r"(?P<release>[^\s#]+) #"
)
RELEASE_RE = re.compile(
    r"^(?:\s+(?:Not tainted|Tainted: (?P<taint>[A-Z ]*?)) *(?P<release>[^\s#]+) #|"
    r"(?P<release2>\d[^\s#]*) #\S+ (?:Not tainted|Tainted: (?P<taint2>[A-Z ]*)))"
)
MODULES_RE = re.compile(r"^Modules linked in:(?P<mods>.*)$")
MODULE_CONT_RE = re.compile(r"^\s+[\w-]+(?:\([A-Z+-]+\))?(?:\s+[\w-]+(?:\([A-Z+-]+\))?)*\s*$")
MODULE_NAME_RE = re.compile(r"^(?P<name>[\w-]+)(?:\([A-Z+-]+\))?$")
_INFO = re.compile(
    r"^(?:Hardware name:|Workqueue:|irq event stamp:|hardirqs last|softirqs last|Tainted: \[|"
    r"Kernel Offset:|task: [0-9a-f]+ |#PF: |PGD [0-9a-f]+|Dumping ftrace|\s+\(ftrace buffer|"
    r"Sending NMI from CPU|Sending NMI to all CPUs|NMI backtrace for cpu|stack backtrace:|"
    r"Preemption disabled at:|Stack:$|"
    r"Rebooting in|note: \S+ exited with|Showing all locks held|Fixing recursive fault|"
    r"Shutting down cpus|INFO: lockdep is turned off|INFO: NMI handler .* took too long|"
    r"Disabling lock debugging|"
    r"\s*\d+ locks? held by|\s+#\d+: |\s*no locks held by|in_atomic\(\)|preempt_count:|"
    r"RCU nest depth:|Mem abort info:|\s+ESR = |\s+EC = |\s+SET = |\s+EA = |\s+FSC = |"
    r"Data abort info:|\s+ISV = |\s+CM = |\s+WnR = |\s+TnD = |\s+CM = |user pgtable:|"
    r"swapper pgtable:|\[[0-9a-f]+\] pgd=|page:|flags: 0x|raw: [0-9a-f]|"
    r"page dumped because|page_owner|page last|\s+prep_new_page|PKRU:|FS:|Call Trace:$|"
    r"RSP: |\s*\(detected by|\s*rcu: |task:\S*\s+state:|\s+Not tainted|\s+Tainted:|"
    r"\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\"|Kernel panic - not syncing|"
    r"---\[ end Kernel panic|CR2: [0-9a-f]+$|"
    # arm: show_pte() (arch/arm/mm/fault.c) "pgd = %p", "[%08lx] *pgd=%08llx"; __die()
    # (arch/arm/kernel/traps.c) "Process %s (pid: %d, stack limit = 0x%p)" and dump_mem()'s
    # "Stack: (0x%08lx to 0x%08lx)" (its rows and an "Exception stack(...)" below the
    # trace stay text: they end the report, as syzkaller's reading does)
    r"pgd = [0-9a-f]+$|\[[0-9a-f]+\] \*pgd=|Process .* \(pid: \d+, stack limit = |"
    r"Stack: \(0x[0-9a-f]+ to 0x[0-9a-f]+\)|"
    # the words of the stack that x86 printed before its call trace (Linux < 4.9)
    r"\s+(?:[0-9a-f]{16}|\(null\)) (?:[0-9a-f]{16}|\(null\))(?: (?:[0-9a-f]{16}|\(null\)))*\s*$|"
    # mm/kasan/report.c kasan_non_canonical_hook(), after a general protection fault
    r"KASAN: (?:null-ptr-deref|maybe wild-memory-access|probably user-memory-access) in range)"
)
# A new boot: the kernel's banner (init/version.c linux_banner), SeaBIOS's first
# line, the x86 decompressor's first and last (arch/x86/boot/compressed/misc.c
# extract_kernel(): "Decompressing Linux... ", "Booting the kernel").
RESET_RE = re.compile(
    r"^(?:Linux version \d\S* |SeaBIOS \(version|Decompressing Linux\.\.\. |Booting the kernel)"
)
_RESET = RESET_RE


def classify_rest(text: str) -> tuple[LineType, object]:
    """The type of a line that is not a report header, and what it carries."""
    if not text.strip():
        return LineType.BLANK, None
    if text.startswith("---") and END_RE.match(text):
        return LineType.END, None
    m: re.Match[str] | None = FRAME_RE.match(text)
    if m and not text.startswith(("RIP", "IP:", "EIP", "pc ", "lr ", "PC ", "LR ")):
        return LineType.FRAME, m
    m = _ARM_FRAME.match(text) or _INLINE_FRAME.match(text) or _ADDR_FRAME.match(text)
    if m:
        return LineType.FRAME, m
    if "(" in text:
        m = _DECODED_FRAME.match(text)
        if m and not text.startswith(("RIP", "IP:", "EIP", "pc ", "lr ", "PC ", "LR ")):
            return LineType.FRAME, m
    if _REGS.match(text):
        return LineType.REGS, text.split(":", 1)[0].split(" is at")[0].strip()
    m = _MARKER.match(text)
    if m:
        return LineType.MARKER, m
    if _CALLTRACE.match(text):
        return LineType.CALLTRACE, None
    if text.startswith(("CPU: ", "Pid: ")):
        m = CPU_RE.match(text) or OLD_PID_RE.match(text)
        if m:
            return LineType.CPULINE, m
    if text.startswith("Modules linked in:"):
        return LineType.MODULES, MODULES_RE.match(text)
    if _SECTION.match(text):
        return LineType.SECTION, None
    if _DECODECODE.match(text):
        return LineType.INFO, None
    if _INFO.match(text):
        return LineType.INFO, None
    if (text.startswith("==") or text.startswith("--")) and SEPARATOR_RE.match(text):
        return LineType.SEP, None
    if CUT_RE.match(text):
        return LineType.CUT, None
    if _RESET.match(text):
        return LineType.RESET, None
    return LineType.TEXT, None
