//! SQLite session store: migrations, one module per table, WAL, a writer and a read pool.
