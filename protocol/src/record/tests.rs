//! Tests of the record module as a whole: golden bytes, round trips, corruption.
