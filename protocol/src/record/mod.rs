//! RecordBatch v2 (magic 2). (being written)
