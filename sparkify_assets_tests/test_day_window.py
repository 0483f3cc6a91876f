"""`DayWindow.slices`: the days of a window cut into consecutive windows of bounded weight."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sparkify_assets.day_window import DayWindow

FIRST = date(2018, 11, 1)


@given(
    weights=st.lists(st.integers(0, 1_000), min_size=1, max_size=40),
    most=st.integers(0, 3_000),
)
def test_slices_cover_the_window_in_order_each_within_its_bound_and_an_even_share(
    weights: list[int], most: int
) -> None:
    window = DayWindow(FIRST, FIRST + timedelta(days=len(weights) - 1))
    weight_of = {day: weight for day, weight in zip(window.days, weights, strict=True) if weight}
    slices = window.slices(weight_of, most)

    assert [day for part in slices for day in part.days] == window.days
    total = sum(weights)
    share = math.ceil(total / math.ceil(total / most)) if total and most else most
    for part, following in zip(slices, [*slices[1:], None], strict=True):
        weight = sum(weight_of.get(day, 0) for day in part.days)
        assert weight <= most or part.start_day == part.end_day, f"{part} weighs {weight} > {most}"
        if following is not None:  # the next day would have made it weigh more than an even share
            assert weight + weight_of.get(following.start_day, 0) > share


def test_a_window_without_weights_is_one_slice() -> None:
    window = DayWindow(FIRST, FIRST + timedelta(days=29))
    assert window.slices({}, 0) == [window]


def test_a_day_heavier_than_the_bound_is_a_slice_of_its_own() -> None:
    days = [FIRST + timedelta(days=n) for n in range(4)]
    window = DayWindow(days[0], days[-1])
    assert window.slices(dict(zip(days, [1, 10, 1, 1], strict=True)), 5) == [
        DayWindow(days[0], days[0]),
        DayWindow(days[1], days[1]),
        DayWindow(days[2], days[3]),
    ]


def test_slices_are_even_rather_than_full_then_a_remainder() -> None:
    window = DayWindow(FIRST, FIRST + timedelta(days=29))
    halves = window.slices(dict.fromkeys(window.days, 10), 290)
    assert halves == [
        DayWindow(FIRST, FIRST + timedelta(days=14)),
        DayWindow(FIRST + timedelta(days=15), window.end_day),
    ]
