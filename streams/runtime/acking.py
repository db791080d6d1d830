"""What a process does when Kafka loses one of its sends: it stops, uncommitted.

Every process commits an offset only past work whose sends Kafka acknowledged
(streams/runtime/offsets.py). A send that fails for good after being handed over
(the producer gave up on it, or a bug) leaves work that is not on the log; carrying
on would commit past it. The process exits with ``SEND_LOST_EXIT`` instead, so it is
restarted and reads that work again from its last commit (the work is idempotent).
"""

from __future__ import annotations

# Exit status of a worker that stopped itself because Kafka lost one of its sends.
SEND_LOST_EXIT = 70
