"""The shared checks of scalar parameters (``sklears_neural._specs._scalars``)."""

import math

import numpy as np
import pytest

from sklears_neural._specs._scalars import (
    check_bool,
    check_int,
    check_option,
    check_real,
    is_int,
    is_real,
)


@pytest.mark.parametrize("value, expected", [
    (3, True), (np.int64(3), True), (-1, True),
    (True, False), (np.bool_(True), False), (3.0, False), ("3", False), (None, False),
])
def test_is_int(value, expected):
    assert is_int(value) is expected


@pytest.mark.parametrize("value, expected", [
    (0.5, True), (3, True), (np.float32(0.5), True), (math.inf, True),
    (math.nan, False), (np.float64("nan"), False), (True, False), ("0.5", False),
    (1j, False), (None, False),
])
def test_is_real(value, expected):
    assert is_real(value) is expected


def test_check_int_returns_a_python_int():
    assert check_int("n", np.int64(4), minimum=1) == 4
    assert type(check_int("n", np.int64(4))) is int
    assert check_int("n", -7) == -7


@pytest.mark.parametrize("value", [0, -1, True, 1.0, "2", None])
def test_check_int_rejects(value):
    with pytest.raises(ValueError, match=rf"^batch_size must be an integer >= 1; got {value!r}\.$"):
        check_int("batch_size", value, minimum=1)


def test_check_int_without_minimum():
    with pytest.raises(ValueError, match=r"^n must be an integer; got 0\.5\.$"):
        check_int("n", 0.5)


def test_check_real_returns_the_value_unchanged():
    value = np.float32(0.25)
    assert check_real("lr", value, ge=0) is value
    assert check_real("eta_min", math.inf, ge=0) == math.inf


@pytest.mark.parametrize("bounds, value, message", [
    ({}, "a", "mean must be a real number; got 'a'."),
    ({}, math.nan, "mean must be a real number; got nan."),
    ({}, True, "mean must be a real number; got True."),
    ({"ge": 0}, -0.1, "mean must be a real number >= 0; got -0.1."),
    ({"gt": 0}, 0, "mean must be a real number > 0; got 0."),
    ({"lt": 1}, 1.0, "mean must be a real number < 1; got 1.0."),
    ({"ge": 0, "lt": 1}, 1.0, "mean must be a real number in [0, 1); got 1.0."),
    ({"gt": 0, "le": 1}, 0.0, "mean must be a real number in (0, 1]; got 0.0."),
    ({"ge": 0, "le": 1}, math.nan, "mean must be a real number in [0, 1]; got nan."),
])
def test_check_real_rejects(bounds, value, message):
    with pytest.raises(ValueError) as info:
        check_real("mean", value, **bounds)
    assert str(info.value) == message


@pytest.mark.parametrize("bounds, value", [
    ({"ge": 0, "lt": 1}, 0.0), ({"gt": 0, "le": 1}, 1.0), ({"lt": 0}, -math.inf),
])
def test_check_real_accepts_the_bounds_it_allows(bounds, value):
    assert check_real("x", value, **bounds) == value


def test_check_bool():
    assert check_bool("shuffle", np.bool_(True)) is True
    assert check_bool("shuffle", False) is False
    with pytest.raises(TypeError, match=r"^shuffle must be True or False; got 1\.$"):
        check_bool("shuffle", 1)
    with pytest.raises(ValueError, match=r"^exclude must be True or False; got 'yes'\.$"):
        check_bool("exclude", "yes", error=ValueError)


def test_check_option():
    assert check_option("mode", "min", ("min", "max")) == "min"
    with pytest.raises(ValueError, match=r"^mode must be one of 'min', 'max'; got 'minimum'\.$"):
        check_option("mode", "minimum", ("min", "max"))
    with pytest.raises(ValueError, match="got None"):
        check_option("mode", None, ("min", "max"))
