#!/bin/sh
# make demo: the main job on the embedded default.  Copies the demo project
# (examples/demo) to build/demo and runs its daily job end to end:
# CSV -> SQLite with the native connectors, dbt builds the models, Great
# Expectations checks the tables.  dbt and GX are installed from PyPI into
# the project's virtualenvs on first use (uv when on PATH, else pip).
set -eu
smelt=$(realpath "$1")
src=$(dirname "$0")/../examples/demo
dir=$(dirname "$smelt")/../../demo
mkdir -p "$dir"
rm -rf "$dir/output" "$dir/.smelt/smelt.db" "$dir/.smelt/run" "$dir/.smelt/logs"
cp -r "$src"/. "$dir"/   # keeps .smelt/<type>/<name>/venv of an earlier demo: installs are skipped
dir=$(realpath "$dir")
echo "== demo project in $dir"
"$smelt" --version
"$smelt" adapters list
cd "$dir"
echo "== smelt run daily  (tap-csv target-sqlite dbt-sqlite:build gx:validate)"
"$smelt" run daily
echo "== saved state"
"$smelt" state get dev:tap-csv-to-target-sqlite
echo "== rows loaded into output/warehouse.db"
sqlite3 -header -column output/warehouse.db \
	"SELECT 'customers' AS tbl, count(*) AS n FROM customers UNION ALL SELECT 'orders', count(*) FROM orders;"
echo "== the dbt model revenue_by_country"
sqlite3 -header -column output/warehouse.db "SELECT * FROM revenue_by_country ORDER BY revenue DESC;"
echo "== the schedule Airflow would run"
"$smelt" schedule list
