"""`index.yaml_text.safe_load` is `yaml.safe_load` on the C parser: same values, same errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from index import yaml_text
from index.leads.provinces import DATA_FILE

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "knowledge").rglob("*.yaml")) + [DATA_FILE]


def test_the_c_loader_is_used_where_pyyaml_has_it() -> None:
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    assert yaml_text._LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_yaml_reads_as_safe_load_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yaml_text.safe_load(text) == yaml.safe_load(text)


def test_empty_text_is_none_and_unsafe_tags_are_refused() -> None:
    assert yaml_text.safe_load("") is None
    with pytest.raises(yaml.YAMLError):
        yaml_text.safe_load("!!python/object/apply:os.system ['true']")
    with pytest.raises(yaml.YAMLError):
        yaml_text.safe_load("a: [1, 2")
