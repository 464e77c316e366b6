"""The search service: Elasticsearch indexes fed from Kafka, the query builder, reindexing and suggestions."""
