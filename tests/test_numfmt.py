"""The one number format (nnsim/numfmt.py) and its axis ticks."""

from __future__ import annotations

import math

import pytest

from nnsim.numfmt import int_ticks, log_ticks, nice_ticks, num, parse, pct, power_label


@pytest.mark.parametrize("value, text", [
    (6148732928074425472098771140608.0, "6.149e30"),   # the diverged loss of the issue
    (0.12345, "0.1235"), (12.345, "12.35"), (1234.5, "1234"), (12345.6, "12346"),
    (99999.6, "1.000e5"), (9.99996, "10.00"), (0.0012346, "0.001235"), (0.00012346, "1.235e-4"),
    (1e-12, "1.000e-12"), (0.0, "0"), (-0.0, "0"), (-2.5e-7, "-2.500e-7"),
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"), (None, "—"),
])
def test_num_rule(value, text):
    assert num(value) == text


def test_num_options():
    assert num(0.03, trim=True) == "0.03" and num(1e-5, trim=True) == "1e-5"
    assert num(100.0, trim=True) == "100" and num(0.5, 2) == "0.50"
    assert num(-1.5, minus="\u2212") == "\u22121.500" and parse("\u22121.500") == -1.5
    for v in (3.14159, -2.5e-7, 6e30, 0.001):
        assert math.isclose(parse(num(v)), v, rel_tol=1e-3)
    assert len(num(6148732928074425472098771140608.0)) <= 9   # never 31 digits


def test_pct():
    assert pct(0.9725) == "97.2%" and pct(1.0) == "100%" and pct(0.95, trim=True) == "95%"
    assert pct(0.9996) == "100%" and pct(0.5) == "50.0%"
    assert pct(None) == "—"


def test_whole_number_ticks():
    assert int_ticks(1, 2) == [1, 2]               # never 1.25, 1.5
    assert int_ticks(1, 1131) == [1, 250, 500, 750, 1000]
    assert all(isinstance(t, int) for t in int_ticks(1, 1131.5))
    assert int_ticks(0, 7) == [0, 2, 4, 6]


def test_nice_and_log_ticks():
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.0012, 0.0031) == [0.0015, 0.002, 0.0025, 0.003]
    assert log_ticks(-12, 17)[0] == -12 and log_ticks(-12, 17)[-1] >= 17
    assert [power_label(e) for e in (-6, -3, -1, 0, 2, 5)] == ["1e-6", "0.001", "0.1", "1", "100", "1e5"]
