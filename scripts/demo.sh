#!/bin/sh
# make demo: the main job on the embedded default.  Copies the demo project
# (examples/demo: CSV files) to build/demo and runs it end to end with the
# native connectors: CSV -> SQLite, then shows what landed.
set -eu
smelt=$(realpath "$1")
src=$(dirname "$0")/../examples/demo
dir=$(dirname "$smelt")/../../demo
rm -rf "$dir"
mkdir -p "$dir"
cp -r "$src"/. "$dir"/
dir=$(realpath "$dir")
echo "== demo project in $dir"
"$smelt" --version
"$smelt" adapters list
cd "$dir"
echo "== smelt run tap-csv target-sqlite"
"$smelt" run tap-csv target-sqlite
echo "== saved state"
"$smelt" state list
echo "== rows in output/warehouse.db"
sqlite3 -header -column output/warehouse.db \
	"SELECT 'customers' AS tbl, count(*) AS n FROM customers UNION ALL SELECT 'orders', count(*) FROM orders;"
sqlite3 -header -column output/warehouse.db \
	"SELECT c.name, count(o.id) AS orders, round(sum(o.amount), 2) AS total
	   FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY total DESC;"
