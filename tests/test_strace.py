"""The strace reader: every line shape of ``strace -f -tt|-ttt -T -s N -yy``,
one event per invocation, strict errors that name the file and line."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from fastring.world.strace import NO_RET, TraceError, parse

SAMPLE = r'''7487  01:41:50.767410 execve("/usr/bin/sh", ["sh", "-c", "ls"], 0x7ffe4ee09fa0 /* 35 vars */) = 0 <0.000149>
7487  01:41:50.767668 brk(NULL)         = 0x564eb2a8e000 <0.000007>
7487  01:41:50.767902 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory) <0.000008>
7487  01:41:50.767945 openat(AT_FDCWD</tmp/wl>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache> <0.000010>
7487  01:41:50.768037 newfstatat(3</etc/ld.so.cache>, "", {st_mode=S_IFREG|0644, st_size=37527, ...}, AT_EMPTY_PATH) = 0 <0.000007>
7487  01:41:50.768172 read(3</usr/lib/libc.so.6>, "\177ELF\2\1\1\3\0\0\x41\\\"\n"..., 832) = 832 <0.000008>
7487  01:41:50.769914 vfork( <unfinished ...>
7488  01:41:50.769988 execve("/usr/bin/ls", ["ls", "-la"], 0x564eb2a8ec78 /* 35 vars */ <unfinished ...>
7487  01:41:50.770044 <... vfork resumed>) = 7488 <0.000125>
7488  01:41:50.770163 <... execve resumed>) = 0 <0.000166>
[pid  7488] 01:41:50.771000 uname({sysname="Linux", nodename="x", ...}) = 0 <0.000005>
7488  01:41:50.786412 write(1</dev/null<char 1:3>>, "total 276\n", 10) = 10 <0.000007>
7488  01:41:50.786523 exit_group(0)     = ?
7488  01:41:50.786731 +++ exited with 0 +++
7487  01:41:50.786755 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7488} ---
7487  01:41:50.786800 rt_sigreturn({mask=[]}) = 7488 <0.000005>
'''


def _write(tmp_path, text, name="cap.txt", gz=False):
    p = tmp_path / name
    if gz:
        with gzip.open(p, "wt") as fh:
            fh.write(text)
    else:
        p.write_text(text)
    return p


@pytest.mark.parametrize("gz", [False, True])
def test_every_line_shape(tmp_path, gz):
    cap = parse(_write(tmp_path, SAMPLE, "cap.gz" if gz else "cap.txt", gz))
    names = [cap.names[k] for k in cap.kind]
    assert names == ["execve", "brk", "access", "openat", "newfstatat", "read",
                     "vfork", "execve", "uname", "write", "exit_group",
                     "rt_sigreturn"]
    assert cap.pids == [7487, 7488]
    assert cap.stats["signals"] == 1 and cap.stats["exits"] == 1
    assert cap.stats["syscalls"] == 12 and cap.stats["lines"] == 16
    i = {n: names.index(n) for n in set(names)}
    # the path and argv: four top-level strings of 11 + 2 + 2 + 2 bytes
    assert cap.n_str[0] == 4 and cap.str_len[0] == 11 + 2 + 2 + 2
    assert cap.ret[i["brk"]] == 0x564eb2a8e000
    assert cap.ret[i["access"]] == -1
    assert cap.str_len[i["openat"]] == len("/etc/ld.so.cache")   # -yy decorations ignored
    assert cap.n_str[i["newfstatat"]] == 1 and cap.str_len[i["newfstatat"]] == 0
    # \177 \2 \1 \1 \3 \0 \0 \x41 \\ \" \n E L F: 14 bytes, shown cut
    r = i["read"]
    assert cap.str_len[r] == 14 and cap.truncated[r] and cap.ret[r] == 832
    # the unfinished/resumed pair is one event, timed at its entry, with
    # the resumed half's return value and the first half's strings
    assert cap.ret[i["vfork"]] == 7488
    second_exec = 7
    assert cap.pid[second_exec] == 1 and cap.ret[second_exec] == 0
    assert cap.n_str[second_exec] == 3
    assert cap.t_ns[second_exec] == (769988 - 767410) * 1000
    assert cap.n_str[i["uname"]] == 0                 # struct fields are not arguments
    assert cap.ret[i["exit_group"]] == NO_RET
    assert cap.str_len[i["write"]] == 10 and not cap.truncated[i["write"]]
    assert (np.diff(cap.t_ns[cap.pid == 0]) >= 0).all()


def test_ttt_timestamps_and_no_pid_column(tmp_path):
    text = ('1700000000.000100 getpid() = 5 <0.000001>\n'
            '1700000000.000350 close(3) = 0 <0.000001>\n')
    cap = parse(_write(tmp_path, text))
    assert cap.pids == [-1] and list(cap.t_ns) == [0, 250_000]


def test_midnight(tmp_path):
    text = ('1 23:59:59.999000 getpid() = 1\n'
            '1 00:00:00.001000 getpid() = 1\n')
    assert list(parse(_write(tmp_path, text)).t_ns) == [0, 2_000_000]


@pytest.mark.parametrize("text, line, what", [
    ("hello world\n", 1, "hello world"),
    (SAMPLE.replace("7487  01:41:50.768037", "garbage here", 1), 5, "garbage"),
    ("1 01:00:00.000001 read(3, \"ab\", 2\n", 1, "read"),
    ("1 01:00:00.000001 getpid() = 1\n1700000000.5 getpid() = 1\n", 2, "mixed"),
])
def test_non_strace_lines_name_file_and_line(tmp_path, text, line, what):
    p = _write(tmp_path, text)
    with pytest.raises(TraceError) as err:
        parse(p)
    msg = str(err.value)
    assert str(p) in msg and f"line {line}:" in msg
    assert what in msg or what == "mixed"


def test_skip_bad_counts(tmp_path):
    text = "junk line\n" + SAMPLE + "strace: Process 9 attached\n"
    cap = parse(_write(tmp_path, text), skip_bad=True)
    assert cap.stats["skipped"] == 2 and cap.stats["first_skipped"][0] == 1
    assert len(cap) == 12


@pytest.mark.parametrize("text, what", [
    ("", "empty capture"),
    ("7 01:00:00.000001 +++ exited with 0 +++\n", "no syscall lines"),
])
def test_empty_and_syscall_free_captures(tmp_path, text, what):
    p = _write(tmp_path, text)
    with pytest.raises(TraceError, match=what) as err:
        parse(p)
    assert str(p) in str(err.value) and "line 1" in str(err.value)


def test_binary_file_is_an_error(tmp_path):
    p = tmp_path / "bin.dat"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(TraceError, match="line 1"):
        parse(p)
