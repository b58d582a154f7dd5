/*
 * An Evidence 39 datasource for DuckDB files, shipped by smelt's evidence
 * adapter.  It is built on @duckdb/node-api (DuckDB's own Node client, whose
 * binaries are npm packages), pinned to the DuckDB release that writes the
 * warehouse: a DuckDB file is read by the release that wrote it or a newer
 * one.  Evidence's own connector (@evidence-dev/duckdb) depends on the
 * `duckdb` package, whose binary is downloaded from a host other than the
 * npm registry at install time.
 *
 * The contract (what Evidence's plugin-connector calls):
 *   options                         the settings of connection.yaml (filename)
 *   getRunner(opts, dir)            -> (sql, path, batchSize) -> QueryResult
 *   testConnection(opts, dir)       -> true | { reason }
 * A QueryResult is { rows: () => AsyncGenerator<row[]>, columnTypes:
 * [{ name, evidenceType, typeFidelity }], expectedRowCount }.
 *
 * The file is opened READ_ONLY, with extension autoloading and installing
 * off: nothing is downloaded, nothing is written to the warehouse.
 */
'use strict';

const path = require('path');
const fs = require('fs');
const { DuckDBInstance, DuckDBTypeId, JSDuckDBValueConverter } = require('@duckdb/node-api');

const NUMBER_TYPES = new Set([
	DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT,
	DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT,
	DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE,
	DuckDBTypeId.DECIMAL
]);
const DATE_TYPES = new Set([
	DuckDBTypeId.DATE, DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_MS,
	DuckDBTypeId.TIMESTAMP_NS, DuckDBTypeId.TIMESTAMP_TZ
]);

/* Evidence's type of a DuckDB column type id. */
function evidenceType(typeId) {
	if (NUMBER_TYPES.has(typeId)) return 'number';
	if (typeId === DuckDBTypeId.BOOLEAN) return 'boolean';
	if (DATE_TYPES.has(typeId)) return 'date';
	return 'string';
}

/* A value as Evidence stores it: numbers as numbers (BIGINT, DECIMAL too), dates as Date, the rest as text. */
function standardize(value, type) {
	if (value === null || value === undefined) return null;
	switch (type) {
		case 'number':
			return Number(value); /* BIGINT and HUGEINT come as bigint, DECIMAL as a double */
		case 'boolean':
			return Boolean(value);
		case 'date':
			return value instanceof Date ? value : new Date(String(value));
		default:
			if (typeof value === 'string') return value;
			if (typeof value === 'bigint') return value.toString();
			if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
			return typeof value === 'object'
				? JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
				: String(value);
	}
}

/* The absolute file of the options: filename, relative to the source's folder unless absolute. */
function fileOf(opts, directory) {
	if (!opts || typeof opts.filename !== 'string' || !opts.filename)
		throw new Error('the duckdb source has no filename (set options.filename or EVIDENCE_SOURCE__<name>__filename)');
	const file = path.resolve(directory, opts.filename);
	if (!fs.existsSync(file)) throw new Error(`the DuckDB file ${file} does not exist`);
	return file;
}

/* Opens the file read-only, offline: { instance, connection }. */
async function open(file) {
	const instance = await DuckDBInstance.create(file, {
		access_mode: 'READ_ONLY',
		autoinstall_known_extensions: 'false',
		autoload_known_extensions: 'false'
	});
	return { instance, connection: await instance.connect() };
}

/* The query without trailing ';' (DuckDB runs one statement), ending in a newline after a line comment. */
function cleanQuery(sql) {
	let s = sql.trim();
	while (s.endsWith(';')) s = s.slice(0, -1).trim();
	return s + '\n';
}

/**
 * Runs one query on the DuckDB file: a QueryResult whose rows come in
 * batches of batchSize.  The result is materialized (connection.run):
 * the streaming results of @duckdb/node-api 1.2.2-alpha.19 crash Node now
 * and then (checked: 5 of 6 runs of a streamed query die with SIGSEGV,
 * none of the materialized ones), and a page's query result is held in
 * memory by Evidence anyway.
 */
async function runQuery(sql, file, batchSize = 100000) {
	const { instance, connection } = await open(file);
	let closed = false;
	const close = () => {
		if (!closed) {
			closed = true;
			connection.closeSync();
			instance.closeSync();
		}
	};
	try {
		const result = await connection.run(cleanQuery(sql));
		const names = result.deduplicatedColumnNames();
		const types = names.map((_, i) => evidenceType(result.columnTypeId(i)));
		const columnTypes = names.map((name, i) => ({ name, evidenceType: types[i], typeFidelity: 'precise' }));
		let expectedRowCount = 0;
		for (let c = 0; c < result.chunkCount; c++) expectedRowCount += result.getChunk(c).rowCount;
		const rows = async function* () {
			try {
				let batch = [];
				for (let c = 0; c < result.chunkCount; c++) {
					for (const values of result.getChunk(c).convertRows(JSDuckDBValueConverter)) {
						const row = {};
						for (let i = 0; i < names.length; i++) row[names[i]] = standardize(values[i], types[i]);
						batch.push(row);
						if (batch.length >= batchSize) {
							yield batch;
							batch = [];
						}
					}
				}
				if (batch.length) yield batch;
			} finally {
				close();
			}
		};
		return { rows, columnTypes, expectedRowCount };
	} catch (e) {
		close();
		throw e instanceof Error ? e.message : e;
	}
}

module.exports = runQuery;

/** @type {import('@evidence-dev/db-commons').GetRunner<{filename: string}>} */
module.exports.getRunner = async (opts, directory) => {
	const file = fileOf(opts, directory);
	return async (queryContent, queryPath, batchSize) => {
		if (!queryPath.endsWith('.sql')) return null; /* connection.yaml and other files of the source */
		return runQuery(queryContent, file, batchSize);
	};
};

/** @type {import('@evidence-dev/db-commons').ConnectionTester<{filename: string}>} */
module.exports.testConnection = async (opts, directory) => {
	try {
		const { rows } = await runQuery('select 1', fileOf(opts, directory));
		for await (const _ of rows());
		return true;
	} catch (e) {
		return { reason: e?.message ?? String(e) };
	}
};

module.exports.options = {
	filename: {
		title: 'Filename',
		type: 'string',
		secret: false,
		description: 'The DuckDB file, relative to the source directory unless absolute; opened read-only.',
		required: true
	}
};
