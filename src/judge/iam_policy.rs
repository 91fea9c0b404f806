//! IAM policy logic: documents decoded, statements that allow everything, trust analysis.
