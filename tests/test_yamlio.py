"""Rule files are read so that codes, years and dates stay text."""

from validator.yamlio import load_yaml


def test_codes_years_dates_and_keys_stay_text() -> None:
    data = load_yaml("a: 2024_25\nb: 0123\non: x\nc: no\nd: 2021-09-31\ne: 2024-05-01\nf: 12\ng: 1.5\nh: true\n")
    assert data == {"a": "2024_25", "b": "0123", "on": "x", "c": "no", "d": "2021-09-31", "e": "2024-05-01",
                    "f": 12, "g": 1.5, "h": True}  # fmt: skip
