from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperbot import catalog
from paperbot.catalog import ID_PATTERN, CatalogError


def test_real_catalog_has_23_entries_with_unique_valid_ids(entries):
    assert len(entries) == 23
    ids = [entry.id for entry in entries]
    assert len(set(ids)) == len(ids)
    assert all(ID_PATTERN.match(entry_id) for entry_id in ids)


def test_ids_come_from_the_papers_short_names(entries):
    ids = {entry.id for entry in entries}
    assert {"elasticmm", "cdpruner", "vla-cache", "holitom", "btp", "llada", "dico"} <= ids


def test_ids_are_deterministic(catalog_file: Path):
    text = catalog_file.read_text(encoding="utf-8")
    first = [entry.id for entry in catalog.parse(text)]
    second = [entry.id for entry in catalog.parse(text, source="elsewhere.txt")]
    assert first == second


def test_name_falls_back_to_title_then_short_name_then_label(entries):
    by_id = {entry.id: entry for entry in entries}
    assert by_id["elasticmm"].name == "ElasticMM" and by_id["elasticmm"].title is None
    oral = next(entry for entry in entries if "oral" in entry.tags)
    assert oral.name == oral.title
    assert oral.title.startswith("Representation Entanglement for Generation")
    assert "ORAL" not in oral.title
    unnamed = by_id["dynamic-visual-token-exit"]
    assert unnamed.title is None and unnamed.name == "Dynamic visual token exit"
    assert by_id["btp"].aliases == ("BTP",)


def test_an_acronym_given_beside_a_name_becomes_an_alias_without_changing_the_id(entries):
    by_id = {entry.id: entry for entry in entries}
    mup = by_id["maximal-update-parametrization"]
    assert "Maximal Update Parametrization (μP)" in mup.summary
    assert mup.aliases == ("μP",)


def test_title_markers_become_tags(entries):
    best = next(entry for entry in entries if "best-paper" in entry.tags)
    assert best.title.startswith("Why Diffusion Models Don")
    assert "🏆" not in best.title


def test_links_normalise_arxiv_and_keep_bare_labels(entries):
    by_id = {entry.id: entry for entry in entries}
    vla = by_id["vla-cache"]
    assert vla.links == ("https://arxiv.org/abs/2502.02175",)
    assert vla.link_labels == ("OpenReview",)
    assert by_id["cdpruner"].links[1] == "https://github.com/Theia-4869/CDPruner"


def test_authors_drop_affiliations_and_et_al(entries):
    by_id = {entry.id: entry for entry in entries}
    holitom = by_id["holitom"]
    assert holitom.authors[-1] == "Huan Wang"
    assert "Westlake University" in holitom.affiliations
    best = next(entry for entry in entries if "best-paper" in entry.tags)
    assert best.authors == ("Tony Bonnaire",)
    assert by_id["vla-cache"].authors == ()


def test_json_has_the_documented_fields(entries):
    data = entries[0].to_json()
    assert {"id", "title", "name", "authors", "links", "summary", "tags"} <= set(data)
    assert isinstance(data["authors"], list)


def test_summary_continuation_lines_are_joined():
    text = "Header\n- Link: arXiv:2501.00001\n- Summary: FooNet speeds up\n  decoding by 2x.\n"
    (entry,) = catalog.parse(text)
    assert entry.summary == "FooNet speeds up decoding by 2x."
    assert entry.id == "foonet"


def test_clashing_generated_ids_get_a_suffix():
    text = (
        "Header\n- Link: arXiv:2501.00001\n- Summary: FooNet speeds up decoding.\n"
        "- Link: arXiv:2501.00002\n- Summary: FooNet also trims memory.\n"
    )
    assert [entry.id for entry in catalog.parse(text)] == ["foonet", "foonet-2"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Header\n- Link: x\n- Sumary: typo\n", 3, "unknown field 'Sumary'"),
        ("Header\n- Link: x\n- Authors: A\n", 2, "no '- Summary:'"),
        ("Header\n- Summary: orphan\n", 2, "before any '- Link:'"),
        ("Header\nA Title\n- Summary: s\n", 2, "title line is not followed by '- Link:'"),
        ("Header\n- Link: x\n- Summary: s\nDangling title\n", 4, "not followed by '- Link:'"),
        ("Header\n- Link: x\n- Summary: s\n- Summary: t\n", 4, "second '- Summary:'"),
        ("Header\n- Link: x\n- Summary: \n", 2, "no '- Summary:'"),
        ("Header\n- Link x\n", 2, "expected '- Link:'"),
    ],
)
def test_malformed_catalogs_name_file_and_line(text, line, message):
    with pytest.raises(CatalogError) as raised:
        catalog.parse(text, source="bad.txt")
    assert str(raised.value).startswith(f"bad.txt:{line}: ")
    assert message in str(raised.value)


def test_empty_file_is_refused():
    with pytest.raises(CatalogError, match=r"^empty\.txt: no entries"):
        catalog.parse("Just a header\n", source="empty.txt")


def test_missing_and_binary_files_are_catalog_errors(tmp_path: Path):
    with pytest.raises(CatalogError, match="no such file"):
        catalog.load(tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogError, match="not UTF-8"):
        catalog.load(binary)


EXTRA = """More papers
- Link: arXiv:2601.00001
- Authors: Ada Lovelace
- Summary: QuillNet compresses visual tokens with learned quill codes, cutting FLOPs by 40%.
"""


def test_import_adds_entries_and_reimport_changes_nothing(tmp_path: Path):
    source = tmp_path / "extra.txt"
    source.write_text(EXTRA, encoding="utf-8")
    imports = tmp_path / "imports"
    first = catalog.import_file(source, imports)
    assert first.changed and first.new == 1
    stored = sorted(p.name for p in imports.iterdir())
    second = catalog.import_file(source, imports)
    assert not second.changed
    assert sorted(p.name for p in imports.iterdir()) == stored
    library = catalog.load_library(imports)
    assert [entry.id for entry in library][-1] == "quillnet"
    assert len(library) == 24


def test_import_refuses_an_id_clash_and_writes_nothing(tmp_path: Path):
    clash = tmp_path / "clash.txt"
    clash.write_text(
        "List\n- Link: arXiv:2601.00002\n- Summary: CDPruner is reimagined as a new thing.\n",
        encoding="utf-8",
    )
    imports = tmp_path / "imports"
    with pytest.raises(CatalogError, match=r"clash\.txt:2: id 'cdpruner' is already used"):
        catalog.import_file(clash, imports)
    assert not imports.exists() or not any(imports.iterdir())


def test_import_refuses_a_malformed_file(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_text(EXTRA + "- Authors: twice\n", encoding="utf-8")
    imports = tmp_path / "imports"
    with pytest.raises(CatalogError, match=re.escape(f"{bad}:5: second '- Authors:'")):
        catalog.import_file(bad, imports)
    assert not imports.exists()
