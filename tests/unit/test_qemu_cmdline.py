"""The QEMU command line a GuestSpec produces, and the bad input it refuses."""

from pathlib import Path

import pytest
from guestdbg.errors import InputError
from guestdbg.runtime.spec import DEFAULT_CMDLINE, GuestSpec


@pytest.fixture
def kernel(tmp_path: Path) -> Path:
    k = tmp_path / "bzImage"
    k.write_bytes(b"not really a kernel")
    return k


def argv(spec: GuestSpec) -> list[str]:
    return spec.argv(
        Path("/s/qmp"),
        Path("/s/con"),
        Path("/a/console.log"),
        "socket,id=gdb0,path=/s/gdb,server=on,wait=off",
    )


def value_after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_cmdline_always_has_the_debug_friendly_defaults(kernel: Path) -> None:
    spec = GuestSpec(kernel=kernel, append="rcupdate.rcu_cpu_stall_timeout=5")
    append = value_after(argv(spec), "-append")
    for word in ("console=ttyS0", "nokaslr", "panic=-1", "loglevel=7"):
        assert word in append.split()
    assert append.startswith(DEFAULT_CMDLINE)
    assert append.endswith("rcupdate.rcu_cpu_stall_timeout=5")


def test_tcg_smp2_default_cpu(kernel: Path) -> None:
    args = argv(GuestSpec(kernel=kernel, smp=2))
    assert value_after(args, "-accel") == "tcg"
    assert value_after(args, "-smp") == "2"
    assert "-cpu" not in args
    assert "-no-reboot" in args  # panic=-1 then ends QEMU instead of rebooting
    assert "-S" not in args


def test_kvm_uses_host_cpu_and_paused_adds_S(kernel: Path) -> None:
    args = argv(GuestSpec(kernel=kernel, accel="kvm", paused=True))
    assert value_after(args, "-cpu") == "host"
    assert "-S" in args


def test_sockets_and_gdbstub_are_wired(kernel: Path, tmp_path: Path) -> None:
    initrd = tmp_path / "initrd"
    initrd.write_bytes(b"x")
    args = argv(GuestSpec(kernel=kernel, initrd=initrd, extra_args=("-d", "int")))
    assert value_after(args, "-initrd") == str(initrd)
    chardevs = [args[i + 1] for i, a in enumerate(args) if a == "-chardev"]
    assert "socket,id=qmp0,path=/s/qmp" in chardevs
    assert any(c.startswith("socket,id=con0,path=/s/con,logfile=/a/console.log") for c in chardevs)
    assert value_after(args, "-serial") == "chardev:con0"
    assert value_after(args, "-gdb") == "chardev:gdb0"
    assert args[-2:] == ["-d", "int"]


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"accel": "hvf"}, "unknown accelerator 'hvf'"),
        ({"smp": 0}, "smp must be at least 1"),
        ({"gdbstub": "serial"}, "unknown gdbstub kind"),
        ({"append": "quiet"}, "'quiet' on the kernel command line hides WARN splats"),
        (
            {"kernel": Path("/nonexistent/bzImage")},
            "the kernel /nonexistent/bzImage does not exist",
        ),
        ({"initrd": Path("/nonexistent/initrd")}, "the initrd /nonexistent/initrd does not exist"),
    ],
)
def test_bad_input_is_one_sentence(kernel: Path, overrides: dict, sentence: str) -> None:
    spec = GuestSpec(kernel=kernel)
    spec = GuestSpec(**{**spec.__dict__, **overrides})
    with pytest.raises(InputError) as err:
        spec.validate()
    assert sentence in str(err.value)
    assert "\n" not in str(err.value)


def test_unreadable_kernel(kernel: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    kernel.chmod(0)
    with pytest.raises(InputError, match="is not readable"):
        GuestSpec(kernel=kernel).validate()


def test_a_restored_guest_waits_for_its_state_and_appends_to_the_logs(kernel: Path) -> None:
    args = GuestSpec(kernel=kernel, incoming=True, log_append=True).argv(
        Path("/s/qmp"),
        Path("/s/con"),
        Path("/a/console.log"),
        "socket,id=gdb0,path=/s/gdb,server=on,wait=off",
        Path("/s/cmd"),
        Path("/a/commands.log"),
    )
    assert value_after(args, "-incoming") == "defer"
    logs = [c for c in args if "logfile=" in c]
    assert len(logs) == 2 and all(c.endswith("logappend=on") for c in logs)
    booted = argv(GuestSpec(kernel=kernel))
    assert "-incoming" not in booted
    assert all("logappend=off" in c for c in booted if "logfile=" in c)
