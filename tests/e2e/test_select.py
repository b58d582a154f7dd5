"""smelt select: the listing comes from the extractor's adapter (the Singer adapter's `select`
operation, ABI 1.2); the host prints it and edits the `select` patterns.  The expected texts are
the output of the 1.1 host, which built the listing itself from `smelt invoke --dump catalog`."""
import json

PROJECT = """\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: users, path: data/users.csv, keys: [id], replication_key: ts}
      - {entity: orders, path: data/orders.csv, keys: [oid]}
    select: [users.*, '!users.secret']
"""

HEAD = ("Legend:\n\tselected\n\texcluded\n\tautomatic\n\tunsupported\n\n"
        "Enabled patterns:\n\tusers.*\n\t!users.secret\n\n")


def setup(project, text=PROJECT):
    data = project.root / "data"
    data.mkdir(exist_ok=True)
    (data / "users.csv").write_text("id,name,secret,ts\n1,a,s,2024-01-01T00:00:00Z\n")
    (data / "orders.csv").write_text("oid,total\n9,1.5\n")
    project.write(text)


def test_select_list_text(project):
    setup(project)
    out = project.smelt("select", "tap-csv", "--list", check=0).stdout
    assert out == HEAD + ("Selected attributes in 'tap-csv':\n"
                          "\t[automatic  ] users.id\n\t[selected   ] users.name\n\t[automatic  ] users.ts\n")
    # one positional argument lists too
    assert project.smelt("select", "tap-csv", check=0).stdout == out


def test_select_list_all_text(project):
    setup(project)
    out = project.smelt("select", "tap-csv", "--list", "--all", check=0).stdout
    # a property of an excluded stream is shown excluded, even a key (automatic in the catalog)
    assert out == HEAD + ("All attributes in 'tap-csv':\n"
                          "\t[automatic  ] users.id\n\t[selected   ] users.name\n\t[excluded   ] users.secret\n"
                          "\t[automatic  ] users.ts\n\t[excluded   ] orders.oid\n\t[excluded   ] orders.total\n")


def test_select_list_json(project):
    setup(project)
    out = project.smelt("select", "tap-csv", "--list", "--all", "--format", "json", check=0).stdout
    assert out == (
        '{"streams":[{"stream":"users","selection":"selected","properties":['
        '{"name":"id","selection":"automatic"},{"name":"name","selection":"selected"},'
        '{"name":"secret","selection":"excluded"},{"name":"ts","selection":"automatic"}]},'
        '{"stream":"orders","selection":"excluded","properties":[{"name":"oid","selection":"automatic"},'
        '{"name":"total","selection":"excluded"}]}],"enabled_patterns":["users.*","!users.secret"]}\n')
    selected = json.loads(project.smelt("select", "tap-csv", "--json", check=0).stdout)
    assert selected == {"streams": [{"stream": "users", "selection": "selected", "properties": [
        {"name": "id", "selection": "automatic"}, {"name": "name", "selection": "selected"},
        {"name": "ts", "selection": "automatic"}]}], "enabled_patterns": ["users.*", "!users.secret"]}


def test_select_default_pattern_and_edits(project):
    setup(project, PROJECT.replace("    select: [users.*, '!users.secret']\n", ""))
    listing = json.loads(project.smelt("select", "tap-csv", "--list", "--format", "json", check=0).stdout)
    assert listing["enabled_patterns"] == ["*.*"]
    assert [s["stream"] for s in listing["streams"]] == ["users", "orders"]
    project.smelt("select", "tap-csv", "orders", check=0)
    project.smelt("select", "tap-csv", "orders", "total", "--exclude", check=0)
    out = project.smelt("select", "tap-csv", "--list", "--all", check=0).stdout
    assert "Enabled patterns:\n\torders.*\n\t!orders.total\n\n" in out
    assert out.endswith("\t[excluded   ] users.ts\n\t[automatic  ] orders.oid\n\t[excluded   ] orders.total\n")
    project.smelt("select", "tap-csv", "orders", "total", "--exclude", "--rm", check=0)
    proc = project.smelt("select", "tap-csv", "orders", "total", "--exclude", "--rm", check=1)
    assert "'tap-csv' has no select pattern '!orders.total'" in proc.stderr
    assert "select:\n    - orders.*\n" in (project.root / "smelt.yml").read_text()


def test_select_discovery_failure_is_an_error(project):
    setup(project)
    (project.root / "data/users.csv").unlink()
    proc = project.smelt("select", "tap-csv", "--list")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "cannot get the catalog of 'tap-csv'" in proc.stderr


def test_select_of_an_adapter_without_the_operation_is_not_implemented(project):
    """An extractor claimed (by namespace) by an adapter built against ABI 1.1, which has no select."""
    from conftest import BUILD
    project.write("default_environment: dev\nenvironments: [{name: dev}]\n"
                  "plugins:\n  extractors:\n  - name: tap-old\n    namespace: legacy_tap\n")
    proc = project.smelt("select", "tap-old", "--list", env={"SMELT_ADAPTER_PATH": str(BUILD / "tests/adapters/compat")})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "smelt: error: select --list: not implemented yet\n(adapter 'legacy11' has no select operation)\n"


def test_select_list_of_a_catalog_whose_properties_are_an_array(project):
    # schema.properties as an array is not JSON Schema, but a tap may print it: the stream is
    # listed without properties (it said "out of memory" before)
    (project.root / "shop.catalog.json").write_text(json.dumps({"streams": [
        {"tap_stream_id": "orders", "schema": {"properties": [{"type": "string"}]},
         "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]}]}))
    project.write("default_environment: dev\nenvironments: [{name: dev}]\nplugins:\n  extractors:\n"
                  "  - name: tap-shop\n    namespace: tap_shop\n    executable: /bin/true\n"
                  "    catalog: shop.catalog.json\n")
    proc = project.smelt("select", "tap-shop", "--list", "--all", "--format", "json", check=0)
    assert json.loads(proc.stdout)["streams"] == [{"stream": "orders", "selection": "selected", "properties": []}]


def test_select_of_a_plugin_that_is_not_an_extractor_says_what_it_is(project):
    setup(project, PROJECT + "  loaders:\n  - name: target-sqlite\n    variant: smelt\n"
                             "  orchestrators:\n  - name: airflow\n    variant: apache\n")
    before = (project.root / "smelt.yml").read_text()
    for args in (["--list"], ["users"], []):
        proc = project.smelt("select", "target-sqlite", *args)
        assert (proc.returncode, proc.stdout) == (1, ""), (args, proc.stderr)
        assert proc.stderr == "smelt: error: 'target-sqlite' is a loader, not an extractor " \
                              "(select works on extractors)\n", args
    assert project.smelt("select", "airflow", "--list").stderr == \
        "smelt: error: 'airflow' is an orchestrator, not an extractor (select works on extractors)\n"
    assert (project.root / "smelt.yml").read_text() == before
    # a name really absent: as before, with the closest name when there is one
    assert project.smelt("select", "tap-cvs", "--list", check=1).stderr == \
        "smelt: error: extractor 'tap-cvs' is not in smelt.yml; did you mean 'tap-csv'?\n"
    assert project.smelt("select", "tap-nothing-alike-here", "--list", check=1).stderr == \
        "smelt: error: extractor 'tap-nothing-alike-here' is not in smelt.yml\n"
