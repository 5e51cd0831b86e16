"""SearxNG's JSON written for the model (lynkr/tools/web/search.py render): bounded, and
tolerant of the shapes different SearxNG versions answer."""

from __future__ import annotations

from harness.fake_searxng import RESULTS, FakeSearxng, result

from lynkr.tools.web.search import render


def test_results_are_numbered_and_limited() -> None:
    text = render(FakeSearxng().answer("ssrf"), "ssrf", 1, 10_000)
    assert text == (
        "Web results for 'ssrf' (top 1, about 48100 in all):\n"
        "1. ipaddress — IPv4/IPv6 manipulation library — Python 3 documentation\n"
        "   https://docs.python.org/3/library/ipaddress.html\n"
        "   The ipaddress module provides the capabilities to create, manipulate and operate "
        "on IPv4 and IPv6 addresses and networks.\n"
        "Related searches: ssrf prevention python; dns rebinding\n"
        "Engines that did not answer: google"
    )


def test_answers_infoboxes_and_corrections_of_either_shape() -> None:
    payload = {
        "results": [],
        "number_of_results": 0,
        "answers": ["42", {"answer": "forty-two", "url": "https://a.test"}],
        "infoboxes": [
            {
                "infobox": "Python",
                "id": "q28865",
                "content": "Python is a programming language.",
                "urls": [],
            }
        ],
        "corrections": ["pyhton → python"],
        "suggestions": [],
        "unresponsive_engines": [],
    }
    assert render(payload, "pyhton", 5, 10_000) == (
        "No web results for 'pyhton'.\n"
        "Answer: 42\nAnswer: forty-two\n"
        "Infobox Python: Python is a programming language.\n"
        "Did you mean: pyhton → python"
    )


def test_odd_entries_are_skipped_and_long_text_cut() -> None:
    long = result("https://long.test/", "T " * 500, "word " * 500)
    payload = {"results": ["not a dict", {"title": "no url"}, long, *RESULTS]}
    text = render(payload, "q", 5, 10_000)
    assert text.startswith("Web results for 'q' (top 4):\n1. T T")
    assert max(len(line) for line in text.splitlines()) <= 405
    assert len(render(payload, "q", 20, 500)) <= 500
    assert render(payload, "q", 20, 500).endswith("[cut at the output limit]")
