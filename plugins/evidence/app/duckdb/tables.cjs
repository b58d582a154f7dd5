/*
 * Prints the tables and views of a DuckDB file, one "table<TAB>schema" per
 * line, each table name once (schema main first): what smelt's evidence
 * adapter queries when the project has no source queries of its own.  The
 * file is opened read-only, with extension autoloading off.
 * Usage: node tables.cjs FILE
 */
'use strict';

const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
	const instance = await DuckDBInstance.create(process.argv[2], {
		access_mode: 'READ_ONLY',
		autoinstall_known_extensions: 'false',
		autoload_known_extensions: 'false'
	});
	const connection = await instance.connect();
	const result = await connection.run(
		'select table_name, table_schema from information_schema.tables ' +
			"where table_catalog = current_database() and table_schema not in ('information_schema', 'pg_catalog') " +
			"order by table_schema <> 'main', table_schema, table_name"
	);
	const seen = new Set();
	for (const [table, schema] of await result.getRows()) {
		if (seen.has(table)) continue;
		seen.add(table);
		process.stdout.write(`${table}\t${schema}\n`);
	}
	connection.closeSync();
	instance.closeSync();
})().catch((e) => {
	process.stderr.write(`cannot list the tables of ${process.argv[2]}: ${e?.message ?? e}\n`);
	process.exit(1);
});
