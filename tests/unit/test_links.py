from __future__ import annotations

import pytest

from bot.links import without_credentials


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://ana:s3cret@mlflow.example.com:5000/x#/models/m",
            "https://mlflow.example.com:5000/x#/models/m",
        ),
        ("https://token@mlflow.example.com/", "https://mlflow.example.com/"),
        ("http://u:p@[::1]:8080/api", "http://[::1]:8080/api"),
        ("https://mlflow.example.com/a?b=c", "https://mlflow.example.com/a?b=c"),  # untouched
    ],
)
def test_credentials_never_reach_a_shown_link(url: str, shown: str) -> None:
    assert without_credentials(url) == shown
