"""Command endpoints: validate the request, build the envelope, produce it to Kafka."""
