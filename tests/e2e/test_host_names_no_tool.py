"""The host's code names no tool (issue 14): outside comments and help text, no .c or .h file under
host/src has a tool's name as a word.  What a tool needs (its definitions, its plugin types' name
prefixes and extras, the kinds of its results) comes from the adapter that runs it.

The rule, precisely:
  * Each file is read as C tokens: comments (/* ... */ and // to the end of the line) are dropped;
    string literals that follow each other with only blanks or comments between are one literal,
    as the compiler joins them.
  * A literal that holds a newline escape (\\n) is text printed for a person (usage, --help, the
    examples of a command) and is skipped: it may name tools to show how to use them.
  * Everything else, code and every other literal (error messages, keys, names compared against)
    must not contain a tool's name as a word, in any case.  A word boundary is what a regular
    expression's \\b is: "dbt-sqlite" and "dbt:run" name dbt, "dbt_profile" or "singerish" do not.
  * The names: TOOLS below.  "meltano" is not one of them: the host implements Meltano's project
    format on purpose (meltano.yml, .meltano/meltano.db, MELTANO_* variables, Meltano's messages).
"""
import re
from pathlib import Path

from conftest import SOURCE

TOOLS = ("singer", "dbt", "airflow", "gx", "great_expectations", "superset", "soda", "dagster",
         "lightdash", "evidence", "duckdb", "snowflake")
WORD = re.compile(r"\b(" + "|".join(TOOLS) + r")\b", re.IGNORECASE)


def tokens(text):
    """(kind, line, text) for the code and the string literals of a C file, comments dropped."""
    out, i, n, line = [], 0, len(text), 1
    code, code_line = [], 1

    def flush_code():
        if "".join(code).strip():
            out.append(("code", code_line, "".join(code)))
        code.clear()

    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            if not code:
                code_line = line
            line += text.count("\n", i, end)
            code.append(" " + "\n" * text.count("\n", i, end))  # keeps the code's line count
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c == '"':
            flush_code()
            start_line, j, lit = line, i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    lit.append(text[j:j + 2])
                    j += 2
                    continue
                lit.append(text[j])
                j += 1
            i = j + 1
            # a literal right after another (blanks and comments between) is the same literal
            if out and out[-1][0] == "string" and out[-1][3]:
                kind, l0, prev, _ = out.pop()
                out.append(("string", l0, prev + "".join(lit), True))
            else:
                out.append(("string", start_line, "".join(lit), True))
        elif c == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            code.append(text[i:j + 1])
            i = j + 1
        else:
            if not code:
                code_line = line
            if c == "\n":
                line += 1
            if not c.isspace() and out and out[-1][0] == "string" and out[-1][3]:
                kind, l0, lit, _ = out.pop()
                out.append((kind, l0, lit, False))  # something other than a blank: the literal ends
            code.append(c)
            i += 1
    flush_code()
    return [(t[0], t[1], t[2]) for t in out]


def hits(path):
    found = []
    source = path.read_text()
    lines = source.splitlines()
    for kind, line, text in tokens(source):
        if kind == "string" and "\\n" in text:
            continue
        for m in WORD.finditer(text):
            # the line of a code token is where the token started: count the lines before the hit
            at = line + text.count("\n", 0, m.start()) if kind == "code" else line
            found.append(f"{path.relative_to(SOURCE)}:{at}: {m.group(0)} in {kind}: {lines[at - 1].strip()}")
    return found


def test_the_rule_sees_code_and_literals_but_not_comments_or_help(tmp_path):
    sample = tmp_path / "sample.c"
    sample.write_text('/* dbt in a comment */\n'
                      'static const char *usage = "smelt run dbt-sqlite:run\\n";\n'
                      'static const char *joined = "no newline here, dbt-sqlite:build "\n'
                      '                            "but this part ends the line\\n";\n'
                      'int f(void) { return g("singer"); } // airflow after code\n'
                      'static const char *const dbt[] = { "model" };\n'
                      'char q = \'"\'; const char *s = "x"; /* " gx " */\n')
    found = [h.split(": ", 1)[1] for h in hits_in(sample)]
    assert [h.split(" in ")[0] for h in found] == ["singer", "dbt"], found


def hits_in(path):
    global SOURCE
    saved, SOURCE = SOURCE, path.parent
    try:
        return hits(path)
    finally:
        SOURCE = saved


def test_host_src_names_no_tool():
    files = sorted((SOURCE / "host" / "src").rglob("*.[ch]"))
    assert files
    found = [h for f in files for h in hits(f)]
    assert not found, "the host names a tool outside comments and help text:\n" + "\n".join(found)
