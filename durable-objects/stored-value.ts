/**
 * One JSON value kept in a Durable Object's SQLite storage: the whole state of a small object,
 * read once when the object wakes and written through on every change.
 */
export class StoredValue<T> {
  constructor(
    private readonly sql: SqlStorage,
    private readonly table: string,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL)`);
  }

  load(): T | undefined {
    const row = this.sql.exec<{ value: string }>(`SELECT value FROM ${this.table} WHERE id = 1`).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  clear(): void {
    this.sql.exec(`DELETE FROM ${this.table}`);
  }

  save(value: T): void {
    this.sql.exec(
      `INSERT INTO ${this.table} (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value`,
      JSON.stringify(value),
    );
  }
}
