"""What the projections need from the deployment's settings, as a structural protocol."""

from __future__ import annotations

from typing import Protocol

from schemas.catalog import Topics
from schemas.kafka_security import KafkaConnection

# The one projection that maintains the read model. Positions, epochs and consumer
# groups are keyed by it, so a second projection could run beside it one day.
PROJECTION = "read_model"
PROJECTIONS = frozenset({PROJECTION})

# The consumer name written into DLQ headers (schemas/dlq.py).
CONSUMER_NAME = "projector"


class ProjectorSettings(Protocol):
    """The subset of ``wavestack.settings.Settings`` the projections read.

    A protocol rather than an import keeps the layering: projections/ depends on
    schemas/ only, and any object with these attributes (tests, the CLI) will do.
    """

    @property
    def kafka_bootstrap(self) -> str: ...

    @property
    def kafka(self) -> KafkaConnection: ...

    @property
    def dsn(self) -> str: ...

    @property
    def db_schema(self) -> str: ...

    @property
    def topics(self) -> Topics: ...
