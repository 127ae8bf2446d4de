"""fastring.memory.lazy_zeros: the rings' memory follows the bytes written."""
import numpy as np

from fastring.memory import LAZY_MIN_BYTES, lazy_zeros


def _rss_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def test_lazy_zeros_is_a_zeroed_writable_array():
    for n, dtype in ((10, np.uint8), (LAZY_MIN_BYTES // 8 + 3, np.int64)):
        a = lazy_zeros(n, dtype)
        assert a.shape == (n,) and a.dtype == dtype and not a.any()
        a[-1] = 7
        assert a[-1] == 7 and a.sum() == 7


def test_one_byte_every_two_mib_does_not_make_the_array_resident():
    """Huge pages would make each 2 MiB resident on its first byte (64 MiB
    here); 4 KiB pages make 32 x 4 KiB resident."""
    a = lazy_zeros(64 << 20)
    before = _rss_kib()
    a[::2 << 20] = 1
    assert _rss_kib() - before < 8 << 10
    assert int(a.sum()) == 32
