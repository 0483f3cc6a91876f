"""`DayWindow.slices`: the days of a window cut into consecutive windows of bounded weight."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sparkify_assets.day_window import DayWindow

FIRST = date(2018, 11, 1)


@given(
    weights=st.lists(st.integers(0, 1_000), min_size=1, max_size=40),
    most=st.integers(0, 3_000),
)
def test_slices_cover_the_window_in_order_each_within_its_bound_and_as_long_as_it_can(
    weights: list[int], most: int
) -> None:
    window = DayWindow(FIRST, FIRST + timedelta(days=len(weights) - 1))
    weight_of = {day: weight for day, weight in zip(window.days, weights, strict=True) if weight}
    slices = window.slices(weight_of, most)

    assert [day for part in slices for day in part.days] == window.days
    for part, following in zip(slices, [*slices[1:], None], strict=True):
        total = sum(weight_of.get(day, 0) for day in part.days)
        assert total <= most or part.start_day == part.end_day, f"{part} weighs {total} > {most}"
        if following is not None:  # the next day would not have fitted
            assert total + weight_of.get(following.start_day, 0) > most


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
