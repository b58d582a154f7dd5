"""The README's table of adapters ("The adapters in this repository") is what `smelt adapters list` finds
in the build: the same adapters, each under the category the adapter itself declares, each with its
README.  Quality, orchestrate and analysis offer two tools (issue 15: gx or soda, airflow or dagster,
superset or evidence);
extract-load (singer, which runs every tap and target) and transform (dbt, which runs every dbt-<warehouse>)
have one adapter each, as the README says."""
import re

from conftest import SOURCE, Smelt


def readme_table():
    """{adapter: (category, [README links])} from the README's table."""
    text = (SOURCE / "README.md").read_text()
    section = text.split("\n## The adapters in this repository\n", 1)
    assert len(section) == 2, "README.md has no '## The adapters in this repository' section"
    lines = section[1].lstrip("\n").splitlines()
    assert lines[0] == "| category | adapter | claims | README |", lines[0]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        category, adapter, _claims, readme = [c.strip() for c in line.strip("|").split(" | ")]
        assert adapter not in rows, f"{adapter} has two rows"
        rows[adapter] = (category, re.findall(r"\]\(([^)]+)\)", readme))
    return rows


def listed(tmp_path):
    return {a["name"]: a["category"]
            for a in Smelt(tmp_path).json("adapters", "list", "--format", "json")["adapters"]}


def test_the_readme_table_is_what_smelt_adapters_list_finds(tmp_path):
    table = readme_table()
    assert {name: category for name, (category, _) in table.items()} == listed(tmp_path)
    for name, (_, links) in table.items():
        assert links and all((SOURCE / link.split("#")[0]).is_file() for link in links), (name, links)


def test_two_tools_where_the_category_offers_a_choice(tmp_path):
    by_category = {}
    for name, category in listed(tmp_path).items():
        by_category.setdefault(category, set()).add(name)
    assert by_category["quality"] == {"gx", "soda"}
    assert by_category["orchestrate"] == {"airflow", "dagster"}
    assert by_category["extract-load"] == {"singer"}
    assert by_category["transform"] == {"dbt"}
    assert by_category["analysis"] == {"superset", "evidence"}
    assert by_category["other"] == {"command"}  # utilities' commands (plugins/command)
    assert set(by_category) == {"extract-load", "transform", "quality", "orchestrate", "analysis", "other"}
