"""Every pipeline in pipelines/ is also shipped inside the package (for non-editable installs)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_every_pipeline_file_is_linked_into_the_package() -> None:
    shipped = {p.name for p in (REPO / "lynkr" / "builtin_pipelines").glob("*.yaml")}
    authored = {p.name for p in (REPO / "pipelines").glob("*.yaml")}
    assert authored, "no pipelines found"
    assert shipped == authored, "link new pipelines into lynkr/builtin_pipelines/"
    for name in shipped:
        assert (REPO / "lynkr" / "builtin_pipelines" / name).read_text() == \
            (REPO / "pipelines" / name).read_text()
