"""The API's connections to Kafka and PostgreSQL: opened lazily, recovered on their own."""
