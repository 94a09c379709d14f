/**
 * Test helper: a copy of every table and sequence of one PostgreSQL schema, put back as a restore would put it
 * (pg_dump's data, or a base backup's). Tables and sequences are found in pg_catalog, never listed here, so a table
 * a new migration adds is covered without a change. The copy lives in a sibling schema (`CREATE TABLE … AS TABLE`
 * per table) and the sequences' positions in memory; putting it back is one transaction: every table emptied at
 * once (TRUNCATE of all of them, so no foreign key stands in the way), the rows inserted parents first (foreign
 * keys between the schema's tables, read from pg_constraint), identity columns given their stored values
 * (`OVERRIDING SYSTEM VALUE`), generated columns left to compute themselves, and every sequence set back
 * (`setval`, `is_called` included, so a sequence that had handed out nothing hands out its start again).
 */
import type pg from 'pg';

/** A schema's tables and sequences, as the catalog lists them. */
interface SchemaShape {
  /** Tables in an order that inserts parents before the tables whose foreign keys point at them. */
  tables: { name: string; columns: string[] }[];
  sequences: string[];
}

/** Where a sequence stood: the arguments `setval` takes to put it back. */
interface SequencePosition {
  name: string;
  lastValue: string;
  isCalled: boolean;
}

/**
 * How far ahead of the last value handed out PostgreSQL writes a sequence to its WAL (`SEQ_LOG_VALS` in
 * sequence.c): what a replica replays, so a promoted replica (or a point-in-time recovery) goes on from up to this
 * many values further than the primary had handed out, never handing an id out again.
 */
export const SEQUENCE_LOGGED_AHEAD = 32;

/** A backup of one schema; `restore` may be called any number of times, `drop` once at the end. */
export interface SchemaCopy {
  /**
   * Puts every table back; every sequence back too, or, with `sequencesAhead`, that many values further on (a
   * sequence that had handed out nothing stays as it was).
   */
  restore(options?: { sequencesAhead?: number }): Promise<void>;
  drop(): Promise<void>;
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

async function shapeOf(client: pg.Client, schema: string): Promise<SchemaShape> {
  // Ordinary and partitioned tables; a partition's rows go in (and out) through its parent.
  const { rows: tables } = await client.query<{ name: string; columns: string[] }>(
    `SELECT c.relname AS name,
            array(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                   ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname`,
    [schema],
  );
  const { rows: keys } = await client.query<{ child: string; parent: string }>(
    `SELECT child.relname AS child, parent.relname AS parent
       FROM pg_constraint k
       JOIN pg_class child ON child.oid = k.conrelid
       JOIN pg_class parent ON parent.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = child.relnamespace
      WHERE k.contype = 'f' AND n.nspname = $1 AND parent.relnamespace = child.relnamespace
        AND child.oid <> parent.oid`,
    [schema],
  );
  const { rows: sequences } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname`,
    [schema],
  );
  return { tables: parentsFirst(tables, keys), sequences: sequences.map((s) => s.name) };
}

/** `tables` ordered so each comes after every table its foreign keys point at; throws on a cycle. */
function parentsFirst<T extends { name: string }>(
  tables: T[],
  keys: { child: string; parent: string }[],
): T[] {
  const ordered: T[] = [];
  const placed = new Set<string>();
  let rest = tables;
  while (rest.length > 0) {
    const ready = rest.filter((t) => keys.every((k) => k.child !== t.name || placed.has(k.parent)));
    if (ready.length === 0) {
      throw new Error(
        `foreign keys form a cycle among ${rest.map((t) => t.name).join(', ')}: insert order cannot be chosen`,
      );
    }
    for (const t of ready) placed.add(t.name);
    ordered.push(...ready);
    rest = rest.filter((t) => !placed.has(t.name));
  }
  return ordered;
}

/** Runs `work` in one transaction on `client` (rolled back if it throws). */
async function inTransaction(client: pg.Client, begin: string, work: () => Promise<void>): Promise<void> {
  await client.query(begin);
  try {
    await work();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/**
 * Copies every table of `schema` into the schema `into` (created here; dropped first if it exists) and notes where
 * each sequence stands, all from one snapshot of the database.
 */
export async function copySchema(client: pg.Client, schema: string, into: string): Promise<SchemaCopy> {
  let shape: SchemaShape = { tables: [], sequences: [] };
  const positions: SequencePosition[] = [];
  await inTransaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ', async () => {
    shape = await shapeOf(client, schema);
    await client.query(`DROP SCHEMA IF EXISTS ${quote(into)} CASCADE`);
    await client.query(`CREATE SCHEMA ${quote(into)}`);
    for (const { name } of shape.tables) {
      await client.query(
        `CREATE TABLE ${quote(into)}.${quote(name)} AS TABLE ${quote(schema)}.${quote(name)}`,
      );
    }
    for (const name of shape.sequences) {
      const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value::text, is_called FROM ${quote(schema)}.${quote(name)}`,
      );
      const row = rows[0];
      if (row === undefined) throw new Error(`sequence ${schema}.${name} returned no row`);
      positions.push({ name, lastValue: row.last_value, isCalled: row.is_called });
    }
  });
  const copied = shape;
  return {
    restore: ({ sequencesAhead = 0 } = {}) =>
      restoreSchema(client, schema, into, copied, positions, sequencesAhead),
    drop: async () => {
      await client.query(`DROP SCHEMA IF EXISTS ${quote(into)} CASCADE`);
    },
  };
}

async function restoreSchema(
  client: pg.Client,
  schema: string,
  from: string,
  shape: SchemaShape,
  positions: SequencePosition[],
  sequencesAhead: number,
): Promise<void> {
  const now = await shapeOf(client, schema);
  const added = now.tables.filter((t) => !shape.tables.some((b) => b.name === t.name)).map((t) => t.name);
  if (added.length > 0) {
    // A restore would drop them; this copy only holds data, so say so rather than leave their rows behind.
    throw new Error(`tables created after the backup cannot be restored by this helper: ${added.join(', ')}`);
  }
  await inTransaction(client, 'BEGIN', async () => {
    const all = shape.tables.map((t) => `${quote(schema)}.${quote(t.name)}`).join(', ');
    await client.query(`TRUNCATE ${all}`);
    for (const { name, columns } of shape.tables) {
      const list = columns.map(quote).join(', ');
      await client.query(
        `INSERT INTO ${quote(schema)}.${quote(name)} (${list}) OVERRIDING SYSTEM VALUE
         SELECT ${list} FROM ${quote(from)}.${quote(name)}`,
      );
    }
    for (const { name, lastValue, isCalled } of positions) {
      await client.query('SELECT setval($1::regclass, $2::bigint + $3::bigint, $4)', [
        `${quote(schema)}.${quote(name)}`,
        lastValue,
        isCalled ? sequencesAhead : 0,
        isCalled,
      ]);
    }
  });
}
